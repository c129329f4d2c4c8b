"""A backend that lacks a capability makes the commands that need it fail clearly (exit 7)."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from issue_core.cli.main import cli
from issue_core.core.errors import ExitCode, NotFound, Unsupported
from issue_core.core.models import Issue, IssueFilter

MINIMAL_BACKEND = '''
from issue_core.core.errors import NotFound
from issue_core.core.interfaces import IssueBackend


class MinimalBackend(IssueBackend):
    """Only what every backend must do: issues, nothing optional."""

    type_name = "minimal"

    def connect(self, config):
        self.issues = {}

    def list_issues(self, filter=None):
        return [i for i in self.issues.values() if filter is None or filter.matches(i)]

    def get_issue_by_number(self, number, *, with_comments=False):
        if number not in self.issues:
            raise NotFound(f"issue #{number} not found")
        return self.issues[number]

    def create_issue(self, issue, *, create_labels=False):
        issue.number = len(self.issues) + 1
        self.issues[issue.number] = issue
        return issue

    def update_issue(self, issue, *, create_labels=False):
        self.issues[issue.number] = issue
        return issue
'''


@pytest.fixture
def minimal(tmp_path, monkeypatch):
    """Install the minimal backend as a plug-in and configure it as the default backend."""
    site = tmp_path / "site"
    (site / "minimal_backend").mkdir(parents=True)
    (site / "minimal_backend" / "__init__.py").write_text(MINIMAL_BACKEND)
    dist = site / "minimal_backend-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: minimal-backend\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text(
        "[issue_core.backends]\nminimal = minimal_backend:MinimalBackend\n"
    )
    monkeypatch.syspath_prepend(str(site))
    config = tmp_path / "config"
    config.mkdir()
    (config / "config.toml").write_text(
        'default_backend = "tiny"\n[backends.tiny]\ntype = "minimal"\n'
    )
    monkeypatch.setenv("ISSUE_CORE_CONFIG_DIR", str(config))
    monkeypatch.delenv("ISSUE_CORE_BACKEND", raising=False)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_optional_methods_raise_unsupported_naming_the_backend(minimal):
    from minimal_backend import MinimalBackend

    backend = MinimalBackend()
    backend.connect({})
    backend.create_issue(Issue(title="x"))
    for call in (
        backend.list_labels,
        backend.list_milestones,
        backend.list_users,
        backend.whoami,
        lambda: backend.add_comment(1, "hi"),
        lambda: backend.delete_issue(1),
    ):
        with pytest.raises(Unsupported, match="minimal backend"):
            call()
    assert backend.list_issues(IssueFilter(state="all"))[0].title == "x"
    with pytest.raises(NotFound):
        backend.get_issue_by_number(7)


@pytest.mark.parametrize(
    "args",
    [
        ["label", "list"],
        ["milestone", "create", "v1"],
        ["user", "list"],
        ["whoami"],
        ["list", "--search", "anything"],
        ["init"],
    ],
)
def test_commands_needing_a_missing_capability_exit_7(minimal, args):
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == ExitCode.UNSUPPORTED, result.output
    assert "the minimal backend" in result.stderr
    assert "Traceback" not in result.stderr

    as_json = CliRunner().invoke(cli, [*args, "--format", "json"])
    assert json.loads(as_json.stderr)["error"]["code"] == "unsupported"


def test_the_rest_of_the_cli_works_on_the_minimal_backend(minimal):
    runner = CliRunner()
    assert runner.invoke(cli, ["list", "--format", "json"]).stdout.strip() == "[]"


def test_the_optional_writes_have_defaults_every_backend_inherits(minimal):
    """bulk_create, find_issue_by_marker and the store file are on the interface, so callers
    ask the contract (or a capability) instead of probing with getattr."""
    from minimal_backend import MinimalBackend

    from issue_core.core.interfaces import Capability

    backend = MinimalBackend()
    backend.connect({})
    made = backend.bulk_create(
        [Issue(title="a"), Issue(title="b", sync_metadata={"marker": "m-2"})], create_labels=True
    )
    assert [(i.number, i.title) for i in made] == [(1, "a"), (2, "b")]
    assert backend.bulk_create([]) == []
    assert not backend.supports(Capability.BULK_CREATE)  # one by one: not all or nothing
    assert backend.find_issue_by_marker("m-2").number == 2
    assert backend.find_issue_by_marker("m-9") is None
    assert backend.created_store_path is None
    assert not backend.supports(Capability.STORE_FILE)
    with pytest.raises(Unsupported, match="minimal backend does not support creating a local"):
        backend.init_store()


def test_which_built_in_backends_declare_bulk_create_and_a_store_file():
    from issue_core.backends.gitea import GiteaBackend
    from issue_core.backends.local import LocalBackend
    from issue_core.core.interfaces import Capability

    both = {Capability.BULK_CREATE, Capability.STORE_FILE}
    assert both <= LocalBackend.capabilities
    assert not both & GiteaBackend.capabilities
