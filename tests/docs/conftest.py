from tests.fakes.fixtures import (  # noqa: F401
    gitea_contract,
    gitea_contract_session,
)
