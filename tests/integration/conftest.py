"""Integration tests: real backends and the real CLI against in-process fake servers."""

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
