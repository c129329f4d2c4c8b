"""Read the real responses kept in ``tests/contracts/gitea/recorded`` (see its FORMAT.md); the
GitLab recordings (``tests/contracts/gitlab/recorded``) share the format: pass their folder."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote_plus, urlsplit

from tests.fakes.contracts import gitea_recorded_dir

LIVE_BASE_URL = "https://gitea.com"


@dataclass(frozen=True)
class RecordedExchange:
    """One recorded ``GET``: what was asked, and the headers and body that came back."""

    file_name: str
    method: str
    target: str  # path + query exactly as the recording client sent it
    headers: tuple[tuple[str, str], ...]
    body: bytes

    @property
    def path(self) -> str:
        return urlsplit(self.target).path

    @property
    def query(self) -> list[tuple[str, str]]:
        return parse_qsl(urlsplit(self.target).query, keep_blank_values=True)

    def header(self, name: str) -> str | None:
        for key, value in self.headers:
            if key.lower() == name.lower():
                return value
        return None

    def json(self, base_url: str | None = None) -> Any:
        text = self.body.decode("utf-8")
        if base_url is not None:
            text = rewrite_live_urls(text, base_url)
        return json.loads(text)


def rewrite_live_urls(text: str, base_url: str, live_base_url: str = LIVE_BASE_URL) -> str:
    """Point the recording's absolute URLs at ``base_url``, as Gitea's own replayer does."""
    return text.replace(live_base_url, base_url.rstrip("/"))


def parse_recorded_file(path: Path) -> RecordedExchange:
    method, _, escaped = path.name.partition("_")
    raw = path.read_bytes()
    head, _, body = raw.partition(b"\n\n")
    headers: list[tuple[str, str]] = []
    for line in head.decode("utf-8").splitlines():
        if line:
            name, _, value = line.partition(": ")
            headers.append((name, value))
    return RecordedExchange(path.name, method, unquote_plus(escaped), tuple(headers), body)


@cache
def load_recorded(directory: str | None = None) -> tuple[RecordedExchange, ...]:
    """Every recorded exchange listed in ``index.json``, in file-name order."""
    folder = Path(directory) if directory else gitea_recorded_dir()
    index = json.loads((folder / "index.json").read_text(encoding="utf-8"))
    return tuple(parse_recorded_file(folder / name) for name in sorted(index["files"]))


def recorded_index(directory: str | None = None) -> dict[str, Any]:
    folder = Path(directory) if directory else gitea_recorded_dir()
    data: dict[str, Any] = json.loads((folder / "index.json").read_text(encoding="utf-8"))
    return data


def find_recorded(suffix: str, directory: str | None = None) -> RecordedExchange:
    """The recorded exchange whose request target ends with ``suffix`` (path and query)."""
    matches = [ex for ex in load_recorded(directory) if ex.target.endswith(suffix)]
    if len(matches) != 1:
        raise LookupError(f"{len(matches)} recorded exchanges end with {suffix!r}")
    return matches[0]
