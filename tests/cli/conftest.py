"""CLI tests that ask a server (``issue config detect``, the environment-only set-up) use the
fakes (owned by their helpers; see tests/fakes/fixtures.py and github_fixtures.py)."""

from tests.fakes.fixtures import (  # noqa: F401
    fake_gitea,
    gitea_contract,
    gitea_contract_session,
    gitea_options,
)
from tests.fakes.github_fixtures import (  # noqa: F401
    fake_github,
    github_contract,
    github_contract_session,
    github_options,
)
from tests.fakes.gitlab_fixtures import (  # noqa: F401
    fake_gitlab,
    gitlab_contract,
    gitlab_contract_session,
    gitlab_options,
)
