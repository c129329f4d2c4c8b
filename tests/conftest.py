"""Fixtures shared by the CLI and end-to-end tests (keep small; add, do not change)."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

# Variables that would make a test depend on the machine it runs on.
_LEAKY_ENV = ("ISSUE_CORE_BACKEND", "ISSUE_CORE_DEBUG", "NO_COLOR", "COLUMNS", "XDG_CONFIG_HOME")


def subprocess_env(config_dir: Path, user: str) -> dict[str, str]:
    """The environment for an ``issue`` subprocess: this machine's, without any ISSUE_CORE_*
    setting or output preference (NO_COLOR, COLUMNS) of the developer's, with a private config
    folder and a fixed user."""
    clean = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("ISSUE_CORE_") and k not in ("NO_COLOR", "COLUMNS")
    }
    clean.update(ISSUE_CORE_CONFIG_DIR=str(config_dir), ISSUE_CORE_USER=user)
    return clean


def git_init(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    subprocess.run(["git", "init", "-q", str(folder)], check=True)
    return folder


@pytest.fixture
def git_project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh git repository as the current folder, with a private user config folder."""
    repo = git_init(tmp_path / "repo")
    monkeypatch.chdir(repo)
    monkeypatch.setenv("ISSUE_CORE_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.setenv("ISSUE_CORE_USER", "tester")
    for name in _LEAKY_ENV:
        monkeypatch.delenv(name, raising=False)
    return repo


@pytest.fixture
def issue(git_project: Path) -> Callable[..., Result]:
    """Run the `issue` CLI in-process: ``issue("list", "--format", "json")``."""
    from issue_core.cli.main import cli

    runner = CliRunner()

    def run(*args: str, input: str | None = None, env: dict[str, str] | None = None) -> Result:
        return runner.invoke(cli, list(args), input=input, env=env, prog_name="issue")

    return run
