from tests.fakes.fixtures import (  # noqa: F401
    gitea_contract,
    gitea_contract_session,
)
from tests.fakes.gitlab_fixtures import gitlab_contract  # noqa: F401
