"""``issue config detect``: configure the repository's backend from its git remote.

The finding is ``service.detect``'s; this module writes what it found into the repository's
``.issue-core/config.toml`` (as its default backend, with the remote remembered) and trusts
it for you, as ``issue backend add --repo`` does: you wrote it, so it is yours. A clone made
by someone else still needs ``issue backend trust``. ``--print`` shows it and writes nothing.
"""

from __future__ import annotations

import os
from typing import Any

import click

from issue_core.cli.groups import Group
from issue_core.cli.output import Outcome, output_options
from issue_core.cli.session import get_session
from issue_core.core.config_checks import url_problem
from issue_core.core.errors import UsageError

DETECT_FIELDS = (
    "remote",
    "remote_url",
    "host",
    "path",
    "type",
    "detected_by",
    "server_version",
    "name",
    "settings",
    "token_env",
    "token_set",
    "written",
    "file",
    "default",
    "trust",
)


@click.group("config", cls=Group)
def config_group() -> None:
    """Configuration from what the repository already says.

    \b
    Examples:
      git remote add origin git@gitlab.com:acme/widgets.git
      issue config detect --print
    """


@config_group.command("detect")
@click.option("--remote", "remote_name", metavar="NAME", help="The git remote to use "
              "[default: the remembered one, else upstream, github, gitlab, origin, else the "
              "only one].")  # fmt: skip
@click.option("--print", "print_only", is_flag=True, help="Only show the backend; write nothing.")
@click.option("--name", "backend_name", metavar="NAME",
              help="Name of the backend to write [default: its type, e.g. github].")  # fmt: skip
@output_options(DETECT_FIELDS)
def detect_cmd(remote_name: str | None, print_only: bool, backend_name: str | None) -> Outcome:
    """Configure this repository's forge backend from its git remote.

    Reads the remote's URL (https, ssh or scp-like, SSH host aliases resolved through
    ~/.ssh/config), recognises github.com and gitlab.com, and asks any other host which forge
    it is (Gitea/Forgejo, GitLab, GitHub Enterprise; no token is sent to it). The backend is
    written to the repository's .issue-core/config.toml as its default, the remote is
    remembered, and the entry is trusted for you. Only the NAME of the token variable is
    stored (GH_TOKEN/GITHUB_TOKEN, GITLAB_TOKEN, GITEA_TOKEN/GITEA_API_TOKEN: the first one
    set, else the type's default). A remote that is not on a forge exits 3; a host that
    cannot be reached exits 6; the local store keeps working either way.

    \b
    Examples:
      git remote add upstream https://gitlab.com/acme/platform/widgets.git
      issue config detect --print
      issue config detect --remote upstream --print --format json
      issue config detect
    """
    from issue_core.cli.backends import NAME_PATTERN, _trust_what_you_added, _write
    from issue_core.service import runtime
    from issue_core.service.detect import REMEMBERED_REMOTE_KEY, detect

    config = get_session().config
    found = detect(config, options_for=runtime.config_options, remote=remote_name)
    name = backend_name or found.type
    if not NAME_PATTERN.match(name):
        raise click.BadParameter(
            "use letters, digits, '.', '_' or '-' (at most 64)", param_hint="--name"
        )
    url = found.entry.get("url")
    if isinstance(url, str):
        problem = url_problem(url, allow_http=False)
        if problem:
            raise UsageError(
                f"git remote {found.remote!r} leads to a URL that {problem}",
                hint="add it yourself: issue backend add NAME TYPE --url URL --allow-http",
            )
    result: dict[str, Any] = {**found.to_dict(os.environ), "name": name, "written": False}
    summary = _summary(found, name)
    token = _token_line(result)
    if print_only:
        import tomli_w

        shown = tomli_w.dumps({"backends": {name: found.entry}}).strip().splitlines()
        return Outcome(result, message=summary, lines=(*shown, token), committed=False)
    path, _ = config.file_for("repo")
    data = config.with_backend("repo", name, found.entry, make_default=True)
    data[REMEMBERED_REMOTE_KEY] = found.remote
    written = _write(path, data)
    settings = result["settings"]
    trust = _trust_what_you_added(config, name, found.type, settings, str(path))
    result.update(written=True, file=str(written), default=True, trust=trust)
    message = f"wrote backend {name} ({found.type}, {found.address.path}) to {written} as the "
    return Outcome(result, message=message + "default", lines=(summary, token))


def _summary(found: Any, name: str) -> str:
    version = f" {found.version}" if found.version else ""
    return (
        f"git remote {found.remote} ({found.url}) is {found.type}{version} at "
        f"{found.address.host} ({found.how}): backend {name}, repository {found.address.path}"
    )


def _token_line(result: dict[str, Any]) -> str:
    variable = result.get("token_env")
    if not variable:
        return "no token variable for this type"
    if result.get("token_set"):
        return f"token: read from ${variable} when used (it is set; the value is never stored)"
    return f"token: ${variable} is not set; export {variable}=... before using the backend"
