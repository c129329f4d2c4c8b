"""CLI tests that ask a server (``issue config detect``, the environment-only set-up) use the
fake Gitea (owned by the Gitea fakes; see tests/fakes/fixtures.py)."""

from tests.fakes.fixtures import (  # noqa: F401
    fake_gitea,
    gitea_contract,
    gitea_contract_session,
    gitea_options,
)
