"""``issue backend list|add|remove|test|set-default``: managing configured backends.

``add`` is generic over the backend class's ``config_options``: each option becomes a
``--<key-with-dashes>`` flag once TYPE is known (``issue backend add NAME TYPE --help`` lists
them). Missing values are prompted for on a terminal and otherwise taken from the option's
default; a required option without a default is then a usage error naming its flag, so agents
never need a terminal. Secrets are refused: a ``*_env`` option stores a variable's *name*.
``test`` exits by what the backend's report says failed (``BackendInfo.failed``): the
credentials' fault is AUTH (5), anything else UNAVAILABLE (6).
"""

from __future__ import annotations

import re
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import click

from issue_core.backends import BUILTIN_BACKENDS, BackendFactory
from issue_core.cli.groups import Group
from issue_core.cli.output import Outcome, Records, output_options
from issue_core.cli.session import get_session
from issue_core.core.config import (
    IMPLICIT_BACKEND,
    SECRET_KEYS,
    TRUST_NOT_NEEDED,
    BackendConfig,
    Config,
    UntrustedBackend,
    check_no_secrets,
    in_git_repository,
)
from issue_core.core.config_checks import env_name_problem, url_problem
from issue_core.core.errors import (
    AuthError,
    BackendUnavailable,
    Conflict,
    IssueCoreError,
    UsageError,
)
from issue_core.core.interfaces import BackendInfo, ConfigOption, IssueBackend

NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
LIST_COLUMNS = ("name", "type", "default", "source", "trust", "location")
LIST_FIELDS = (*LIST_COLUMNS, "settings")
CHANGE_FIELDS = ("name", "type", "scope", "file", "default", "settings", "removed", "trust")
INFO_FIELDS = tuple(BackendInfo(type="x").to_dict())
# What a failed check says is wrong -> the exit code: the credentials' fault is AUTH (5).
CREDENTIAL_FAILURES = frozenset({"auth", "repository", "permission"})
TYPE_META = "issue_core.backend_type"


def interactive() -> bool:
    """Prompts only when a person can answer them (tests patch this)."""
    try:
        return sys.stdin.isatty()
    except (AttributeError, ValueError):
        return False


def option_flag(option: ConfigOption) -> str:
    return "--" + option.key.replace("_", "-")


def option_param(option: ConfigOption) -> str:
    return "cfg_" + re.sub(r"\W", "_", option.key)


# --------------------------------------------------------------------------- scope


def scope_options(command: Any) -> Any:
    """``--scope user|repo`` and its shorthands ``--user`` / ``--repo``."""
    for option in reversed(
        [
            click.option(
                "--scope",
                type=click.Choice(["user", "repo"]),
                help="Config file to write [default: repo inside a git repository, else user].",
            ),
            click.option("--user", "scope_user", is_flag=True, help="Same as --scope user."),
            click.option("--repo", "scope_repo", is_flag=True, help="Same as --scope repo."),
        ]
    ):
        command = option(command)
    return command


def explicit_scope(kwargs: dict[str, Any]) -> str | None:
    """The scope named by --scope/--user/--repo (removed from ``kwargs``), or None."""
    named = {
        *([kwargs.pop("scope")] if kwargs.get("scope") else []),
        *(["user"] if kwargs.pop("scope_user", False) else []),
        *(["repo"] if kwargs.pop("scope_repo", False) else []),
    }
    kwargs.pop("scope", None)
    if len(named) > 1:
        raise click.UsageError("give one scope: --user or --repo")
    return named.pop() if named else None


def _scope_from(kwargs: dict[str, Any]) -> str:
    return explicit_scope(kwargs) or ("repo" if in_git_repository() else "user")


# --------------------------------------------------------------------------- list


def location(backend: BackendConfig) -> str:
    for key in ("path", "url", "dsn", "host"):
        value = backend.settings.get(key)
        if isinstance(value, str) and value:
            return value
    return ""


@click.group("backend", cls=Group)
def backend_group() -> None:
    """Configure the backends issue-core talks to.

    With no configuration, every command uses the local store .issue-core/issues.db at the
    top of the git repository. Backends are kept in the repository's .issue-core/config.toml
    or in the user's config.toml ($ISSUE_CORE_CONFIG_DIR overrides its folder). A backend
    that a repository's config names (other than a store inside the repository) is used only
    after `issue backend trust NAME`.

    \b
    Examples:
      issue backend list
      issue backend add scratch local --path /tmp/scratch.db --default
      issue backend test scratch
      issue backend trust work
      issue backend set-default local
      issue backend remove scratch
    """


@backend_group.command("list")
@output_options(LIST_FIELDS, empty="no backends")
def list_backends() -> Records:
    """List configured backends; the default one is marked.

    TRUST is "not needed" for your own and zero-config backends, else "trusted",
    "untrusted" or "changed" (a repository's entry changed since you trusted it).
    """
    config = get_session().config
    default = config.default_backend_name() or IMPLICIT_BACKEND
    backends = config.backends()
    if IMPLICIT_BACKEND not in backends:
        backends = {IMPLICIT_BACKEND: config.implicit_local(), **backends}
    rows = []
    for name, entry in backends.items():
        resolved = config.resolve_paths(entry)
        rows.append(
            {
                "name": name,
                "type": entry.type,
                "default": name == default,
                "source": entry.source,
                "trust": resolved.trust,
                "location": location(resolved),
                "settings": resolved.settings,
            }
        )
    return Records(rows, LIST_COLUMNS)


# --------------------------------------------------------------------------- add


def find_type_argument(args: Sequence[str], flags: set[str]) -> str | None:
    """TYPE (the second positional) in raw arguments, so its options can exist before parsing.

    Tokens after an option that is not a known flag are that option's value.
    """
    positionals: list[str] = []
    tokens = list(args)
    index = 0
    while index < len(tokens):
        token = tokens[index]
        if token == "--":
            positionals.extend(tokens[index + 1 :])
            break
        if token.startswith("-") and token != "-":
            takes_value = "=" not in token and token not in flags
            next_is_option = index + 1 < len(tokens) and tokens[index + 1].startswith("-")
            if takes_value and not (token == "--json" and next_is_option):
                index += 1
        else:
            positionals.append(token)
        index += 1
    return positionals[1] if len(positionals) > 1 else None


class BackendAddCommand(click.Command):
    """Adds the chosen backend type's ``--<option>`` flags once TYPE is known."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        flags = {
            opt
            for param in self.params
            if isinstance(param, click.Option) and (param.is_flag or param.count)
            for opt in (*param.opts, *param.secondary_opts)
        } | {"-h", "--help"}
        type_name = find_type_argument(args, flags)
        if type_name is not None:
            ctx.meta[TYPE_META] = BackendFactory.backend_class(type_name)
        return super().parse_args(ctx, args)

    def get_params(self, ctx: click.Context) -> list[click.Parameter]:
        params = super().get_params(ctx)
        backend_class: type[IssueBackend] | None = ctx.meta.get(TYPE_META)
        if backend_class is None:
            return params
        extra = [
            click.Option(
                [option_flag(option), option_param(option)],
                metavar="VALUE",
                help=_option_help(option),
            )
            for option in backend_class.config_options
        ]
        taken = {opt for param in extra for opt in param.opts}
        # A type option wins a clash with a generic shorthand (e.g. a forge's --repo); the
        # generic setting stays reachable through --scope.
        kept = [p for p in params if not (set(getattr(p, "opts", ())) & taken)]
        # The type's own options are listed first, right after NAME and TYPE.
        arguments = [p for p in kept if isinstance(p, click.Argument)]
        options = [p for p in kept if not isinstance(p, click.Argument)]
        return [*arguments, *extra, *options]


def _option_help(option: ConfigOption) -> str:
    text = f"{option.prompt}." if not option.help else option.help
    if option.default is not None:
        text += f" [default: {option.default}]"
    elif option.required:
        text += " [required]"
    return text


def collect_settings(backend_class: type[IssueBackend], given: dict[str, Any]) -> dict[str, Any]:
    settings: dict[str, Any] = {}
    for option in backend_class.config_options:
        value = given.get(option_param(option))
        if value is None and interactive():
            value = click.prompt(
                option.prompt,
                default=option.default
                if option.default is not None
                else ("" if not option.required else None),
                show_default=option.default is not None,
                err=True,
            )
        if value is None or value == "":
            value = option.default
        if value is None or value == "":
            if option.required:
                raise click.UsageError(f"missing {option_flag(option)} ({option.prompt})")
            continue
        settings[option.key] = check_setting(option, str(value))
    return settings


def check_setting(option: ConfigOption, value: str) -> str:
    key = option.key.lower()
    if key in SECRET_KEYS:
        raise UsageError(
            f"refusing to store a secret ({option.key!r}) in a config file",
            hint="store the name of an environment variable in 'token_env' instead",
        )
    if key.endswith("_env") and env_name_problem(option.key, value):
        raise UsageError(
            f"{option_flag(option)} takes the NAME of an environment variable, not its value"
            " (the value is not shown; if it was a real token, revoke it)",
            hint=f"e.g. {option_flag(option)} GITEA_API_TOKEN, then export GITEA_API_TOKEN=...",
        )
    return value


def check_urls(settings: dict[str, Any], allow_http: bool) -> None:
    for key, value in settings.items():
        if key == "url" or key.endswith("_url"):
            problem = url_problem(value, allow_http=allow_http)
            if problem:
                raise UsageError(f"{option_flag(ConfigOption(key, key))} {problem}")


ADD_HELP = """Add a backend called NAME of type TYPE ({types}, or a plug-in type).

Each type has its own options (see them with: issue backend add NAME TYPE --help). On a
terminal, missing values are asked for; otherwise defaults are used, and a required value
without a default is a usage error. Secrets are never stored: options ending in _env take
the name of an environment variable. Adding an existing NAME exits 4 unless --force.

\b
Examples:
  issue backend add scratch local --path /tmp/scratch.db --default
  issue backend add work gitea --url https://gitea.example.com --owner acme \\
      --repo widgets --token-env GITEA_API_TOKEN --user
"""


@backend_group.command(
    "add", cls=BackendAddCommand, help=ADD_HELP.format(types=", ".join(BUILTIN_BACKENDS))
)
@click.argument("name")
@click.argument("type_name", metavar="TYPE")
@click.option("--default", "make_default", is_flag=True, help="Also make it the default.")
@scope_options
@click.option("--force", is_flag=True, help="Replace a backend of the same name.")
@click.option(
    "--allow-http",
    is_flag=True,
    help="Allow a plain http:// URL to a host other than this machine (the token travels "
    "unencrypted).",
)
@output_options(CHANGE_FIELDS)
def add_backend(
    name: str, type_name: str, make_default: bool, force: bool, allow_http: bool, **kwargs: Any
) -> Outcome:
    if not NAME_PATTERN.match(name):
        raise click.BadParameter(
            "use letters, digits, '.', '_' or '-' (at most 64)", param_hint="NAME"
        )
    ctx = click.get_current_context()
    backend_class = ctx.meta.get(TYPE_META) or BackendFactory.backend_class(type_name)
    scope = _scope_from(kwargs)
    config = get_session().config
    existing = config.backends()
    if name in existing and not force:
        raise Conflict(
            f"a backend named {name!r} already exists ({existing[name].source} config)",
            hint="pass --force to replace it",
        )
    settings = collect_settings(backend_class, kwargs)
    check_urls(settings, allow_http)
    if allow_http:
        settings["allow_http"] = True
    path, _ = config.file_for(scope)
    entry = {"type": type_name, **settings}
    check_no_secrets(entry, where=str(path))
    written = _write(path, config.with_backend(scope, name, entry, make_default=make_default))
    result = {
        "name": name,
        "type": type_name,
        "scope": scope,
        "file": str(written),
        "default": make_default,
        "settings": settings,
    }
    if scope == "repo":
        result["trust"] = _trust_what_you_added(config, name, type_name, settings, str(path))
    suffix = " as the default" if make_default else ""
    return Outcome(result, message=f"added backend {name} ({type_name}) to {written}{suffix}")


def _trust_what_you_added(
    config: Config, name: str, type_name: str, settings: dict[str, Any], file: str
) -> str:
    """A backend you add to the repository's config yourself is trusted by you (a clone of
    the repository made by someone else still needs ``issue backend trust``)."""
    added = BackendConfig(name, type_name, dict(settings), "repo")
    added.source_file = file
    resolved = config.resolve_paths(added)
    if resolved.trust == TRUST_NOT_NEEDED:
        return TRUST_NOT_NEEDED
    user_path, _ = config.file_for("user")
    _write(user_path, config.record_trust(resolved))
    return "trusted"


def _write(path: Path, data: dict[str, Any]) -> Path:
    from issue_core.core.config import write_toml

    write_toml(path, data)
    return path


# --------------------------------------------------------------------------- remove / default


@backend_group.command("remove")
@click.argument("name")
@scope_options
@output_options(CHANGE_FIELDS)
def remove_backend(name: str, **kwargs: Any) -> Outcome:
    """Remove a configured backend (from the repo config first, else the user config).

    The backend's data is not touched: a local store file stays where it is.
    """
    config = get_session().config
    scope = config.scope_holding(name, explicit_scope(kwargs))
    path, _ = config.file_for(scope)
    _write(path, config.without_backend(scope, name))
    result = {"name": name, "scope": scope, "file": str(path), "removed": True}
    return Outcome(result, message=f"removed backend {name} from {path}")


@backend_group.command("set-default")
@click.argument("name")
@scope_options
@output_options(CHANGE_FIELDS)
def set_default(name: str, **kwargs: Any) -> Outcome:
    """Make NAME the backend commands use when --backend is not given."""
    scope = _scope_from(kwargs)
    config = get_session().config
    updated = config.with_default(scope, name)
    path, _ = config.file_for(scope)
    written = _write(path, updated)
    result = {"name": name, "scope": scope, "file": str(written), "default": True}
    return Outcome(result, message=f"default backend is now {name} ({written})")


# --------------------------------------------------------------------------- test


def failure_for(info: BackendInfo) -> IssueCoreError | None:
    """The error the first failed check stands for: credentials -> AUTH (5), else
    UNAVAILABLE (6), as the check's typed failure says (never its wording)."""
    first = info.failed_check
    if first is None:
        return None
    check, detail, failed = first
    message = f"backend {info.name or info.type!r} failed check {check!r}: {detail}"
    return AuthError(message) if failed in CREDENTIAL_FAILURES else BackendUnavailable(message)


@backend_group.command("test")
@click.argument("name", required=False)
@output_options(INFO_FIELDS)
def test_backend(name: str | None) -> Outcome:
    """Check that a backend (default: the one in use) is reachable and usable.

    Exit 0 when every check passes; otherwise 5 when credentials failed, else 6.

    \b
    Examples:
      issue backend test
      issue backend test work --format json
    """
    session = get_session()
    chosen = session.resolve(name)
    try:
        info = session.connect(chosen).test_connection()
    except UntrustedBackend:
        raise
    except IssueCoreError as exc:
        info = BackendInfo(type=chosen.type, checks={"connect": (False, exc.one_line())})
        info.name, info.location = chosen.name, location(chosen) or None
        return Outcome(info, failure=exc, committed=False)
    # The name is the configured backend's on every type (the forge's repository is in location).
    info.name = chosen.name
    info.location = info.location or location(chosen) or None
    return Outcome(info, failure=failure_for(info), committed=False)


# --------------------------------------------------------------------------- trust


@backend_group.command("trust")
@click.argument("name")
@output_options(CHANGE_FIELDS)
def trust_backend(name: str) -> Outcome:
    """Trust a backend that this repository's config names.

    A committed .issue-core/config.toml could name any URL and any environment variable, and
    would then send that variable's value as a token. So such a backend is used only after
    you trust it here. The trust is kept in your user config with a digest of the entry: if the
    repository later changes its URL, token variable or anything else that decides where the
    token goes, it needs trusting again. A local store inside the repository needs no trust.

    \b
    Examples:
      issue backend list
      issue backend trust work
    """
    session = get_session()
    config = session.config
    chosen = config.resolve(name)
    result: dict[str, Any] = {"name": chosen.name, "type": chosen.type, "trust": chosen.trust}
    if chosen.trust == TRUST_NOT_NEEDED:
        return Outcome(
            result,
            message=f"backend {chosen.name} needs no trust ({chosen.source})",
            committed=False,
        )
    path, _ = config.file_for("user")
    _write(path, config.record_trust(chosen))
    result.update(trust="trusted", scope="user", file=str(path))
    target = chosen.settings.get("url") or chosen.settings.get("path") or chosen.type
    variable = chosen.settings.get("token_env")
    sends = f"${variable} may be sent to {target}" if variable else f"it opens {target}"
    return Outcome(result, message=f"trusted backend {chosen.name}: {sends} (recorded in {path})")
