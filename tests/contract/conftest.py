"""The behavioural contract every backend must meet, parametrised over backends.

To run the suite against another backend, add an entry to ``BACKEND_FACTORIES``: a function
taking pytest's ``request`` and ``tmp_path`` and returning a *connected* backend whose
repository starts empty. Backend-specific setup (fake servers ...) lives in the factory.
Observable differences between backends are declared by capabilities, never by backend name.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from issue_core.core.interfaces import IssueBackend

BackendFactory = Callable[[pytest.FixtureRequest, Path], IssueBackend]


def _local(request: pytest.FixtureRequest, tmp_path: Path) -> IssueBackend:
    from issue_core.backends.local import LocalBackend

    backend = LocalBackend()
    backend.connect({"path": str(tmp_path / "store" / "issues.db"), "identity": "tester"})
    return backend


BACKEND_FACTORIES: dict[str, BackendFactory] = {"local": _local}


def register_backend(name: str, factory: BackendFactory) -> None:
    BACKEND_FACTORIES[name] = factory


# Forge backends (the fake Gitea ...) register their factories on import. A plain import, so a
# broken forge module fails the suite instead of silently dropping that backend from it.
from tests.contract import forge_backends  # noqa: F401, E402


@pytest.fixture(params=sorted(BACKEND_FACTORIES))
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[IssueBackend]:
    instance = BACKEND_FACTORIES[request.param](request, tmp_path)
    try:
        yield instance
    finally:
        instance.close()


# -- the CLI configured for each backend (tests/contract/test_cli_contract.py) -------------------
from tests.contract.cli_backends import cli_backend  # noqa: E402, F401

# -- fake Gitea (owned by the Gitea fakes; see tests/fakes/fixtures.py) ---------------------------
from tests.fakes.fixtures import (  # noqa: E402, F401
    fake_gitea,
    gitea_contract,
    gitea_contract_session,
    gitea_options,
)

# -- fake GitHub (owned by the GitHub fakes; see tests/fakes/github_fixtures.py) -------------------
from tests.fakes.github_fixtures import (  # noqa: E402, F401
    fake_github,
    github_contract,
    github_contract_session,
    github_options,
)

# -- fake GitLab (owned by the GitLab fakes; see tests/fakes/gitlab_fixtures.py) ------------------
from tests.fakes.gitlab_fixtures import (  # noqa: E402, F401
    fake_gitlab,
    gitlab_contract,
    gitlab_contract_session,
    gitlab_options,
)
