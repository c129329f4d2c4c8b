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
@output_options(USER_FIELDS)
def whoami_cmd() -> Outcome:
    """Print the identity the backend acts as.

    On the local store that is $ISSUE_CORE_USER, else 'user' in the config, else your login.

    \b
    Examples:
      issue whoami
      issue whoami --jq .username
    """
    from issue_core.service import catalog

    user = catalog.whoami(get_session().backend)
    return Outcome(user, message=user.username, committed=False)
