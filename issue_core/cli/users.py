"""``issue user list`` and ``issue whoami``."""

from __future__ import annotations

import click

from issue_core.cli.groups import Group
from issue_core.cli.output import Outcome, output_options
from issue_core.cli.session import get_session
from issue_core.core.models import User

USER_FIELDS = tuple(User(username="x").to_dict())


@click.group("user", cls=Group)
def user_group() -> None:
    """List the users a backend knows.

    \b
    Examples:
      issue user list --format json
    """


@user_group.command("list")
@output_options(USER_FIELDS, empty="no users")
def list_users() -> list[User]:
    """List users (on the local store: everyone who wrote or was assigned, and you)."""
    from issue_core.service import catalog

    return catalog.list_users(get_session().backend)


@click.command("whoami")
@output_options((*USER_FIELDS, "agent"))
def whoami_cmd() -> Outcome:
    """Print the identity the backend acts as, and the acting agent.

    The agent is --as NAME, else $ISSUE_CORE_AGENT, else 'agent' in the config, else the
    backend's user. On the local store (no accounts) the user is the agent when one is named,
    else $ISSUE_CORE_USER, 'user' in the config, your login; on a forge it is the token's
    account, which many agents may share. JSON: the user's fields and "agent".

    \b
    Examples:
      issue whoami
      issue --as worker-1 whoami --json username,agent
    """
    from issue_core.service import catalog

    record = catalog.identity(get_session().backend)
    user, agent = record["username"], record["agent"]
    line = user if agent == user else f"{user} (as agent {agent})"
    return Outcome(record, message=line, committed=False)
