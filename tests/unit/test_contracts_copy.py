"""The contract data in ``tests/contracts`` is complete and, where ``../shared/contracts`` is
beside the clone (where new data arrives), the same as it; ``make contracts`` refreshes it."""

from __future__ import annotations

import filecmp
from pathlib import Path

import pytest

from tests.fakes.contracts import REPO_ROOT, contracts_dir

COPY = REPO_ROOT / "tests" / "contracts"
SHARED = REPO_ROOT.parent / "shared" / "contracts"


def _files(root: Path) -> dict[str, Path]:
    return {
        str(path.relative_to(root)): path
        for path in root.rglob("*")
        if path.is_file() and "__pycache__" not in path.parts
    }


def test_contracts_are_in_the_repository() -> None:
    assert contracts_dir() == COPY or contracts_dir().is_dir()
    for needed in ("README.md", "gitea/swagger.v1.json", "gitea/recorded/index.json"):
        assert (COPY / needed).is_file(), f"tests/contracts/{needed} is missing"
    # Provenance and licences travel with the data.
    assert (COPY / "gitlab" / "gitbeaker" / "LICENSE.md").is_file()


@pytest.mark.skipif(not SHARED.is_dir(), reason="no ../shared/contracts beside this clone")
def test_copy_matches_shared_contracts() -> None:
    ours, theirs = _files(COPY), _files(SHARED)
    missing = sorted(set(theirs) - set(ours))
    extra = sorted(set(ours) - set(theirs))
    changed = sorted(
        name
        for name in set(ours) & set(theirs)
        if not filecmp.cmp(ours[name], theirs[name], shallow=False)
    )
    assert not (missing or extra or changed), (
        "tests/contracts differs from ../shared/contracts; run `make contracts` "
        f"(missing {missing[:5]}, extra {extra[:5]}, changed {changed[:5]})"
    )
