"""Read the TypeScript declarations in tests/contracts/gitlab/gitbeaker into checkable types.

Only the subset of TypeScript those declarations use: ``interface X extends Y { ... }`` and
``type X = { ... };`` with one member per line (``name?: type;``), member types made of
``number``, ``string``, ``boolean``, ``null``, ``unknown``, string literals (``'asc'``), unions
(``|``), arrays (``T[]``), inline object types (``{ ... }``, nested), ``Record<K, V>``,
``MappedOmit<X, 'a' | 'b'>`` and references to other declarations. Mapped and conditional types
(``Camelize``) are skipped: they describe no wire field. gitbeaker writes request options in
camelCase and sends them in snake_case (``addLabels`` -> ``add_labels``), so ``snake`` names
are what a request carries.

A ``Type`` checks a JSON value (``errors``) or a query-string value (``query_errors``, where
every scalar is text and an array is ``name[]=`` repeated or comma-separated).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from tests.fakes.contracts import contracts_dir


@dataclass(frozen=True)
class Type:
    kind: str  # prim | literal | union | array | object | ref | record | omit
    name: str = ""  # prim name, literal text, or referenced declaration
    items: tuple[Type, ...] = ()
    fields: tuple[Member, ...] = ()
    omitted: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Member:
    name: str
    type: Type
    optional: bool


@dataclass
class Declarations:
    """Every interface and object type alias of one .d.ts, by name, with inheritance."""

    types: dict[str, Type] = field(default_factory=dict)
    parents: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def members(self, name: str) -> dict[str, Member]:
        """Own and inherited members (a member redeclared in the child wins)."""
        found: dict[str, Member] = {}
        for parent in self.parents.get(name, ()):
            if parent in self.types:
                found.update(self.members(parent))
        declared = self.types[name]
        found.update({m.name: m for m in declared.fields})
        return found

    def resolve(self, kind: Type) -> dict[str, Member] | None:
        """The members of an object-like type (a reference, ``MappedOmit`` or inline)."""
        if kind.kind == "object":
            return {m.name: m for m in kind.fields}
        if kind.kind == "ref" and kind.name in self.types:
            return self.members(kind.name)
        if kind.kind == "omit":
            base = self.resolve(kind.items[0]) or {}
            return {k: v for k, v in base.items() if k not in kind.omitted}
        return None

    # -- checking ------------------------------------------------------------------------

    def errors(self, kind: Type, value: Any, where: str, *, nullable: bool = False) -> list[str]:
        """Problems with JSON ``value`` as ``kind``; ``nullable``: ``null`` passes anywhere
        (gitbeaker types fields GitLab sends as ``null``, such as ``due_date``, as plain)."""
        if nullable and value is None:
            return []
        if kind.kind == "prim":
            return [] if _prim_ok(kind.name, value) else [f"{where}: {value!r} is not {kind.name}"]
        if kind.kind == "literal":
            return [] if value == kind.name else [f"{where}: {value!r} is not {kind.name!r}"]
        if kind.kind == "union":
            tries = [self.errors(item, value, where, nullable=nullable) for item in kind.items]
            if any(not t for t in tries):
                return []
            return [f"{where}: {value!r} matches none of {describe(kind)}"]
        if kind.kind == "array":
            if not isinstance(value, list):
                return [f"{where}: {value!r} is not an array"]
            return [
                e
                for i, v in enumerate(value)
                for e in self.errors(kind.items[0], v, f"{where}[{i}]", nullable=nullable)
            ]
        if kind.kind == "record":
            return [] if isinstance(value, dict) else [f"{where}: {value!r} is not an object"]
        members = self.resolve(kind)
        if members is None:
            return []  # a type outside the subset (IterationSchema): nothing to hold it to
        if not isinstance(value, dict):
            return [f"{where}: {value!r} is not an object"]
        problems: list[str] = []
        for name, member in members.items():
            if name in value:
                problems += self.errors(
                    member.type, value[name], f"{where}.{name}", nullable=nullable
                )
        return problems

    def query_errors(self, kind: Type, values: list[str], where: str) -> list[str]:
        if kind.kind == "array":
            items = [part for v in values for part in v.split(",")]
            return [e for item in items for e in self.query_errors(kind.items[0], [item], where)]
        if kind.kind == "union":
            tries = [self.query_errors(item, values, where) for item in kind.items]
            return (
                []
                if any(not t for t in tries)
                else [f"{where}: {values!r} is not {describe(kind)}"]
            )
        if len(values) > 1:
            return [f"{where}: given {len(values)} times"]
        text = values[0]
        if kind.kind == "prim":
            ok = {
                "number": re.fullmatch(r"-?\d+(\.\d+)?", text) is not None,
                "boolean": text.lower() in QUERY_BOOLEANS,
            }.get(kind.name, True)
            return [] if ok else [f"{where}: {text!r} is not {kind.name}"]
        if kind.kind == "literal":
            return [] if text == kind.name else [f"{where}: {text!r} is not {kind.name!r}"]
        return []


# What Grape's Boolean (dry-types ``Params::Bool``) takes from a query string.
QUERY_BOOLEANS = frozenset(
    {"true", "false", "1", "0", "t", "f", "yes", "no", "y", "n", "on", "off"}
)


def _prim_ok(name: str, value: Any) -> bool:
    if name == "number":
        return isinstance(value, int | float) and not isinstance(value, bool)
    if name == "string":
        return isinstance(value, str)
    if name == "boolean":
        return isinstance(value, bool)
    if name == "null":
        return value is None
    return True  # unknown, any


def describe(kind: Type) -> str:
    if kind.kind in ("prim", "ref"):
        return kind.name
    if kind.kind == "literal":
        return repr(kind.name)
    if kind.kind == "union":
        return " | ".join(describe(i) for i in kind.items)
    if kind.kind == "array":
        return describe(kind.items[0]) + "[]"
    return kind.kind


def snake(name: str) -> str:
    """A gitbeaker option name as sent on the wire (``assigneeIds`` -> ``assignee_ids``)."""
    return re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", name).lower()


# --------------------------------------------------------------------------- parsing

_DECL = re.compile(
    r"^(?:interface\s+(?P<iname>\w+)(?:<[^>]*>)?(?:\s+extends\s+(?P<parents>[^{]+))?\s*\{"
    r"|type\s+(?P<tname>\w+)(?:<[^>]*>)?\s*=\s*\{)\s*$"
)
_MEMBER = re.compile(r"^(?P<name>[A-Za-z_]\w*)(?P<opt>\?)?:\s*(?P<type>.+?);?$")


def parse(text: str) -> Declarations:
    decls = Declarations()
    lines = text.splitlines()
    index = 0
    while index < len(lines):
        match = _DECL.match(lines[index].strip())
        index += 1
        if not match:
            continue
        name = match.group("iname") or match.group("tname")
        parents = tuple(
            re.sub(r"<.*", "", p).strip()
            for p in _split_top(match.group("parents") or "", ",")
            if p.strip() and not p.strip().startswith("Record<")
        )
        body, index = _block(lines, index)
        if any(line.strip().startswith("[") for line in body):
            continue  # a mapped type: no wire fields
        decls.types[name] = Type("object", name=name, fields=_members(body))
        decls.parents[name] = parents
    return decls


def _block(lines: list[str], index: int) -> tuple[list[str], int]:
    """The member lines up to the closing brace of a declaration opened on the line before."""
    depth, body = 1, []
    while index < len(lines):
        line = lines[index]
        index += 1
        depth += line.count("{") - line.count("}")
        if depth <= 0:
            break
        body.append(line)
    return body, index


def _members(body: list[str]) -> tuple[Member, ...]:
    members: list[Member] = []
    index = 0
    while index < len(body):
        line = body[index].strip()
        index += 1
        match = _MEMBER.match(line)
        if not match:
            continue
        type_text = match.group("type").rstrip(";").strip()
        if type_text == "{":
            inner, depth = [], 1
            while index < len(body) and depth > 0:
                depth += body[index].count("{") - body[index].count("}")
                if depth > 0:
                    inner.append(body[index])
                index += 1
            kind = Type("object", fields=_members(inner))
        else:
            kind = parse_type(type_text)
        members.append(Member(match.group("name"), kind, bool(match.group("opt"))))
    return tuple(members)


def _split_top(text: str, sep: str) -> list[str]:
    parts, depth, current = [], 0, ""
    for char in text:
        if char in "<({[":
            depth += 1
        elif char in ">)}]":
            depth -= 1
        if char == sep and depth == 0:
            parts.append(current)
            current = ""
        else:
            current += char
    parts.append(current)
    return parts


def parse_type(text: str) -> Type:
    text = text.strip()
    union = [p.strip() for p in _split_top(text, "|")]
    if len(union) > 1:
        return Type("union", items=tuple(parse_type(p) for p in union))
    if text.endswith("[]"):
        return Type("array", items=(parse_type(text[:-2]),))
    if text.startswith("(") and text.endswith(")"):
        return parse_type(text[1:-1])
    if text[:1] in ("'", '"'):
        return Type("literal", name=text[1:-1])
    if text in ("number", "string", "boolean", "null", "unknown", "any"):
        return Type("prim", name=text)
    if text.startswith("Record<"):
        return Type("record")
    if text.startswith("MappedOmit<"):
        base, keys = _split_top(text[len("MappedOmit<") : -1], ",")
        omitted = frozenset(k.strip().strip("'\"") for k in keys.split("|"))
        return Type("omit", items=(parse_type(base),), omitted=omitted)
    return Type("ref", name=re.sub(r"<.*", "", text))


def gitbeaker_path() -> Path:
    return contracts_dir() / "gitlab" / "gitbeaker" / "gitlab-issues-subset.d.ts"


@cache
def load(path: str | None = None) -> Declarations:
    return parse(Path(path or gitbeaker_path()).read_text(encoding="utf-8"))
