"""``ForgeBackend``'s template methods, tested directly over a forge whose wire is a few dicts
in memory (no HTTP request is sent): connecting from settings, the ``test_connection`` report,
create-once across a lost answer, the dropped-field check, label and milestone caches with the
in-progress label, the three-way merge on update, the change feed and marker lookups.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from issue_core.backends._http.errors import AmbiguousWrite
from issue_core.backends.forge.base import ForgeBackend
from issue_core.backends.forge.body import compose_body, split_body
from issue_core.backends.forge.edit import IssueEdit
from issue_core.core.errors import AuthError, ConfigError, Conflict, NotFound, PermissionDenied
from issue_core.core.interfaces import Capability, ConfigOption
from issue_core.core.models import Issue, IssueState, Label, Milestone, User

# Recent: the pending-create tokens expire by the real clock (an hour).
NOW = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=10)


class Server:
    """The forge's side: issues as wire dicts, labels and milestones by id."""

    def __init__(self) -> None:
        self.issues: list[dict[str, Any]] = []
        self.labels: list[Label] = []
        self.milestones: list[Milestone] = []
        self.now = NOW
        self.lose_answers = False  # a create is applied, its answer never arrives
        self.push_access = True  # without it, assignees are silently dropped
        self.index_lags = False  # the search does not find recent issues yet

    def tick(self) -> datetime:
        self.now += timedelta(seconds=1)
        return self.now


class MemoryForge(ForgeBackend):
    type_name = "memforge"
    forge_name = "Memforge"
    config_options = (
        ConfigOption("url", "Memforge URL"),
        ConfigOption("owner", "Owner"),
        ConfigOption("repo", "Repository"),
        ConfigOption("token_env", "Token variable", default="MEMFORGE_TOKEN"),
        ConfigOption("in_progress_label", "Label", default="status/in-progress", required=False),
    )
    token_help = "make a token in Memforge"
    capabilities = frozenset({Capability.LABELS, Capability.MILESTONES, Capability.CHANGE_FEED})

    def _api_base(self, url: str) -> str:
        return url.rstrip("/") + "/api"

    def _open_client(self, http: Any, settings: Mapping[str, str], config: Any) -> None:
        self.server: Server = config["server"]
        self.repo = f"{settings['owner']}/{settings['repo']}"

    @property
    def _where(self) -> str:
        return self.repo

    def _fetch_me(self) -> User:
        return User("me")

    def _server_version(self) -> str:
        return "1.0"

    def _repository(self) -> tuple[str | None, bool]:
        return self.repo, self.server.push_access

    def _to_issue(self, raw: Mapping[str, Any]) -> Issue:
        description, metadata, _ = split_body(raw["body"])
        labels = [name for name in raw["labels"] if name != self.in_progress_label]
        state = IssueState.CLOSED if raw["state"] == "closed" else IssueState.OPEN
        if state is IssueState.OPEN and self.in_progress_label in raw["labels"]:
            state = IssueState.IN_PROGRESS
        return Issue(
            title=raw["title"],
            number=raw["number"],
            id=str(raw["id"]),
            description=description,
            sync_metadata=metadata,
            labels=sorted(labels),
            assignees=list(raw["assignees"]),
            state=state,
            updated_at=raw["updated_at"],
        ).mark_loaded()

    def _is_pull_request(self, raw: Mapping[str, Any]) -> bool:
        return bool(raw.get("pull_request"))

    def _raw_issues_since(self, since: datetime | None) -> Iterator[Mapping[str, Any]]:
        return iter([r for r in self.server.issues if since is None or r["updated_at"] >= since])

    def _search_marker(self, marker: str) -> Iterator[Issue]:
        found = [] if self.server.index_lags else self.server.issues
        return (self._to_issue(raw) for raw in found if marker in raw["body"])

    def _create_token_of(self, raw: Mapping[str, Any]) -> str | None:
        return split_body(raw["body"])[2]

    def _post_issue(
        self, payload: dict[str, Any], *, find_existing: Callable[[], dict[str, Any] | None]
    ) -> dict[str, Any]:
        number = len(self.server.issues) + 1
        assignees = payload["assignees"] if self.server.push_access else []
        raw = {**payload, "number": number, "id": 100 + number, "state": "open"}
        raw.update(assignees=assignees, updated_at=self.server.tick())
        self.server.issues.append(raw)
        if self.server.lose_answers:
            raise AmbiguousWrite("the connection was lost; the create may have been applied")
        return dict(raw)

    def create_issue(self, issue: Issue, *, create_labels: bool = False) -> Issue:
        state = IssueState.parse(issue.state)
        labels = [lab.name for lab in self._resolve_labels(issue.labels, create=create_labels)]
        if state is IssueState.IN_PROGRESS:
            labels.append(self._in_progress().name)

        def build(token: str | None) -> dict[str, Any]:
            body = compose_body(issue.description, issue.sync_metadata, create_token=token)
            return {
                "title": issue.title,
                "body": body,
                "labels": labels,
                "assignees": issue.assignees,
            }

        created = self._to_issue(self._create_once(build))
        self._refuse_dropped_on_create(issue, created, state)
        return created

    def _read_for_update(self, number: int) -> tuple[dict[str, Any], Issue]:
        raw = dict(self.server.issues[number - 1])
        return raw, self._to_issue(raw)

    def _write_update(self, edit: IssueEdit) -> Issue | None:
        stored = self.server.issues[edit.number - 1]
        wanted = edit.wanted
        stored["title"] = wanted.title
        stored["body"] = compose_body(wanted.description, wanted.sync_metadata)
        stored["labels"] = [lab.name for lab in self._resolve_labels(wanted.labels, create=True)]
        if self.server.push_access:
            stored["assignees"] = list(wanted.assignees)
        stored["updated_at"] = self.server.tick()
        updated = self._to_issue(stored)
        self._refuse_dropped_on_update(edit, updated)
        return updated

    def get_issue_by_number(self, number: int, *, with_comments: bool = False) -> Issue:
        return self._read_for_update(number)[1]

    def list_issues(self, filter: Any = None) -> list[Issue]:
        return list(self._issues_since(None))

    def get_issue_by_id(self, issue_id: str) -> Issue:
        raise NotFound(issue_id)

    def _fetch_labels(self) -> list[Label]:
        return list(self.server.labels)

    def _post_label(self, label: Label, *, find_existing: Callable[[], Label | None]) -> Label:
        stored = Label(label.name, color=label.color, id=str(len(self.server.labels) + 1))
        self.server.labels.append(stored)
        return stored

    def _patch_label(self, stored: Label, label: Label) -> Label:
        stored.name, stored.color = label.name, label.color or stored.color
        return stored

    def _remove_label(self, stored: Label) -> None:
        self.server.labels.remove(stored)

    def _fetch_milestones(self) -> list[Milestone]:
        return list(self.server.milestones)

    def _post_milestone(self, milestone: Milestone) -> Milestone:
        stored = Milestone(milestone.title, id=str(len(self.server.milestones) + 1))
        self.server.milestones.append(stored)
        return stored


SETTINGS = {"url": "http://127.0.0.1:9/", "owner": "o", "repo": "r"}


@pytest.fixture
def server(tmp_path, monkeypatch) -> Server:
    monkeypatch.setenv("ISSUE_CORE_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("MEMFORGE_TOKEN", "secret-token")
    return Server()


@pytest.fixture
def forge(server: Server) -> Iterator[MemoryForge]:
    backend = MemoryForge(clock=lambda: server.now.timestamp())
    backend.connect({**SETTINGS, "server": server})
    yield backend
    backend.close()


# --------------------------------------------------------------------------- connect


def test_connect_names_the_missing_settings_and_how_to_add_them(server):
    with pytest.raises(ConfigError) as caught:
        MemoryForge().connect({"url": "http://127.0.0.1:9", "server": server})
    assert caught.value.message == "memforge backend needs owner, repo"
    assert (
        caught.value.hint == "issue backend add NAME memforge --url URL --owner OWNER --repo REPO"
    )


def test_connect_says_which_variable_should_hold_the_token(server, monkeypatch):
    monkeypatch.delenv("MEMFORGE_TOKEN")
    with pytest.raises(AuthError) as caught:
        MemoryForge().connect({**SETTINGS, "server": server})
    assert (
        caught.value.message == "no Memforge token: environment variable MEMFORGE_TOKEN is not set"
    )
    assert caught.value.hint == "make a token in Memforge and export MEMFORGE_TOKEN=<token>"
    monkeypatch.setenv("OTHER_TOKEN", "t")
    backend = MemoryForge()
    backend.connect({**SETTINGS, "server": server, "token_env": "OTHER_TOKEN"})
    assert backend.token_env == "OTHER_TOKEN"


def test_connect_reads_the_http_settings(server):
    backend = MemoryForge()
    with pytest.raises(ConfigError, match="memforge setting 'timeout' must be a number"):
        backend.connect({**SETTINGS, "server": server, "timeout": "soon"})
    backend.connect({**SETTINGS, "server": server, "timeout": "3", "max_retries": "0"})
    assert backend.http.base_url == "http://127.0.0.1:9/api"
    assert backend.http.timeouts.total == 3.0 and backend.http.retry.attempts == 1
    with pytest.raises(ConfigError, match="memforge backend is not connected"):
        _ = MemoryForge().http


def test_the_connection_report_follows_the_repository_access(forge, server):
    info = forge.test_connection()
    assert info.ok and info.user == "me" and info.name == "o/r"
    assert info.failed is None and info.failed_check is None
    assert info.checks["server"] == (True, "Memforge 1.0 at 127.0.0.1:9")
    server.push_access = False
    info = forge.test_connection()
    assert not info.ok and "read-only access" in info.checks["permissions"][1]
    assert info.failed == "permission"


# --------------------------------------------------------------------------- create-once


def test_a_create_whose_answer_was_lost_is_found_by_the_next_identical_create(forge, server):
    server.lose_answers = True
    with pytest.raises(AmbiguousWrite):
        forge.create_issue(Issue("Flaky test", description="fails"))
    assert len(server.issues) == 1
    server.lose_answers = False
    again = forge.create_issue(Issue("Flaky test", description="fails"))
    assert again.number == 1 and len(server.issues) == 1  # found, not made twice
    other = forge.create_issue(Issue("Flaky test", description="fails"))
    assert other.number == 2  # resolved: the next identical create is a new issue


def test_fields_the_forge_dropped_on_create_are_refused_naming_the_issue(forge, server):
    server.push_access = False
    with pytest.raises(PermissionDenied) as caught:
        forge.create_issue(Issue("x", assignees=["bob"]))
    assert caught.value.message == (
        "created #1 'x', but Memforge dropped assignees bob: the token's user cannot set them "
        "in o/r (no push access)"
    )


# --------------------------------------------------------------------------- labels


def test_the_in_progress_label_is_made_once_and_never_listed(forge, server):
    with pytest.raises(NotFound, match="label 'bug' not found in o/r"):
        forge.create_issue(Issue("x", labels=["bug"]))
    made = forge.create_issue(Issue("x", labels=["bug"], state="in_progress"), create_labels=True)
    assert made.state is IssueState.IN_PROGRESS and made.labels == ["bug"]
    forge.create_issue(Issue("y", state="in_progress"))
    assert [lab.name for lab in server.labels] == ["bug", "status/in-progress"]
    assert server.labels[1].color == "fbca04"
    assert [lab.name for lab in forge.list_labels()] == ["bug"]
    with pytest.raises(Exception, match="in-progress marker"):
        forge.delete_label("status/in-progress")
    with pytest.raises(Conflict, match="label 'bug' already exists in o/r"):
        forge.create_label(Label("bug"))


def test_milestones_are_cached_by_title_and_listed_in_order(forge, server):
    forge.create_milestone(Milestone("v2"))
    forge.create_milestone(Milestone("v1"))
    assert [m.title for m in forge.list_milestones()] == ["v1", "v2"]
    with pytest.raises(Conflict, match="milestone 'v1' already exists in o/r"):
        forge.create_milestone(Milestone("v1"))
    assert forge._stored_milestone("v2").id == "1"


# --------------------------------------------------------------------------- update


def test_an_update_merges_onto_the_issue_as_the_server_holds_it_now(forge, server):
    forge.create_issue(Issue("x", labels=["a"]), create_labels=True)
    mine = forge.get_issue_by_number(1)
    theirs = forge.get_issue_by_number(1)
    theirs.labels = ["a", "theirs"]
    forge.update_issue(theirs)
    mine.labels = ["a", "mine"]
    assert forge.update_issue(mine).labels == ["a", "mine", "theirs"]  # sets merge
    stale = forge.get_issue_by_number(1)
    fresh = forge.get_issue_by_number(1)
    fresh.title = "theirs"
    forge.update_issue(fresh)
    stale.title = "mine"
    with pytest.raises(Conflict, match=r"issue #1 changed on the server .*\(title\)"):
        forge.update_issue(stale)


def test_an_update_whose_fields_the_forge_dropped_says_what_was_applied(forge, server):
    forge.create_issue(Issue("x"))
    server.push_access = False
    issue = forge.get_issue_by_number(1)
    issue.title, issue.assignees = "renamed", ["bob"]
    with pytest.raises(PermissionDenied) as caught:
        forge.update_issue(issue)
    assert caught.value.message.startswith("Memforge dropped assignees bob on #1")
    assert caught.value.message.endswith("; applied: title")


# --------------------------------------------------------------------------- feed and markers


def test_the_change_feed_is_ordered_resumable_and_sees_changes_within_a_second(forge, server):
    for title in ("a", "b", "c"):
        forge.create_issue(Issue(title))
    changes, cursor = forge.changes_since(None, limit=2)
    assert [c.issue.title for c in changes] == ["a", "b"]
    rest, cursor = forge.changes_since(cursor)
    assert [c.issue.title for c in rest] == ["c"]
    assert forge.changes_since(cursor) == ([], cursor)
    server.issues[2]["title"] = "c edited in the same second"
    assert [c.issue.title for c in forge.changes_since(cursor)[0]] == [
        "c edited in the same second"
    ]


def test_a_marker_is_found_by_search_and_while_the_index_lags(forge, server):
    made = forge.create_issue(Issue("x", sync_metadata={"marker": "run-7:task-3"}))
    assert forge.find_issue_by_marker("run-7:task-3").number == made.number
    server.index_lags = True
    assert forge.find_issue_by_marker("run-7:task-3").number == made.number  # the recent scan
    server.now += timedelta(hours=1)
    assert forge.find_issue_by_marker("run-7:task-3") is None  # too old for the scan
    assert forge.find_issue_by_marker("nope") is None


class HostedForge(MemoryForge):
    """A forge with one well-known host (as github.com): its url has a default."""

    type_name = "hosted"
    config_options = (
        ConfigOption("url", "URL", default="http://127.0.0.1:9"),
        ConfigOption("owner", "Owner"),
        ConfigOption("repo", "Repository"),
        ConfigOption("token_env", "Token variable", default="HOSTED_TOKEN"),
        ConfigOption("in_progress_label", "Label", default="doing", required=False),
    )


def test_what_connect_requires_and_defaults_comes_from_the_config_options(server, monkeypatch):
    assert MemoryForge.required_settings() == ("url", "owner", "repo")
    assert HostedForge.required_settings() == ("owner", "repo")
    with pytest.raises(ConfigError) as caught:
        HostedForge().connect({"server": server})
    assert caught.value.hint == "issue backend add NAME hosted --owner OWNER --repo REPO"
    monkeypatch.setenv("HOSTED_TOKEN", "t")
    backend = HostedForge()
    assert backend.token_env == "HOSTED_TOKEN" and backend.in_progress_label == "doing"
    backend.connect({"owner": "o", "repo": "r", "server": server})
    assert backend.in_progress_label == "doing"
    assert backend.create_issue(Issue("x", state="in_progress")).state is IssueState.IN_PROGRESS
    assert [lab.name for lab in server.labels] == ["doing"]
