"""The users table: the same person under another name on another backend.

``[sync.users]`` in the configuration, one table per person, keyed by backend name::

    [sync.users.alice]
    work = "alice.smith"     # her name on the backend called work
    gh = "asmith"            # and on gh

A name is translated through the person it belongs to; a backend the entry does not name uses
the entry's own key (``alice``). A name no entry knows is kept as it is, never dropped: the
target backend then stores it (the local store takes any name) or refuses it with a clear error
that the run reports for that issue.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from issue_core.core.errors import ConfigError


class UserMap:
    def __init__(self, people: Mapping[str, Mapping[str, str]] | None = None) -> None:
        self.people = {person: dict(names) for person, names in (people or {}).items()}

    @classmethod
    def from_config(cls, section: Any, where: str = "[sync.users]") -> UserMap:
        if section is None:
            return cls()
        if not isinstance(section, dict):
            raise ConfigError(f"{where} must be a table of people")
        people: dict[str, dict[str, str]] = {}
        for person, names in section.items():
            if not isinstance(names, dict) or not all(
                isinstance(v, str) and v for v in names.values()
            ):
                raise ConfigError(
                    f"{where}.{person} must map backend names to user names (strings)",
                    hint=f'e.g. [sync.users.{person}] work = "{person}.smith"',
                )
            people[person] = dict(names)
        return cls(people)

    def translate(self, name: str, source: str, target: str) -> str:
        """``name`` on backend ``source`` as backend ``target`` knows the same person."""
        lowered = name.lower()
        for person, names in self.people.items():
            own = names.get(source, person)
            if own.lower() == lowered:
                return names.get(target, person)
        return name

    def translate_all(self, names: Iterable[str], source: str, target: str) -> list[str]:
        return [self.translate(name, source, target) for name in names]
