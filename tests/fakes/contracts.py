"""Check HTTP exchanges against Gitea's official Swagger 2.0 description.

``GiteaContract`` finds the operation a request targets (path templates under ``basePath``),
checks its path and query parameters and its JSON body, and checks a response body against the
operation's schema for that status. Every problem comes back as one readable sentence; callers
decide whether to raise (``ContractViolation``) or to collect.

Schemas are JSON Schema draft 4 with the document's ``definitions`` attached. Real Gitea sends
``null`` for absent objects, lists and times (even an empty reaction list is ``null``) although
its Swagger has no notion of nullable, so in *responses* ``null`` passes wherever the schema
expects an object, an array, a ``$ref`` or a ``date-time`` string. Plain strings, numbers and
booleans stay strict, and requests get no relaxation at all.
"""

from __future__ import annotations

import copy
import json
import os
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

REPO_ROOT = Path(__file__).resolve().parents[2]
CONTRACTS_ENV = "ISSUE_CORE_CONTRACTS_DIR"

# Query parameters every operation accepts through the security definitions.
_AUTH_QUERY_PARAMS = frozenset({"access_token", "token", "sudo"})
_EMPTY = object()


class ContractViolation(AssertionError):
    """A request or response that the official description does not allow."""


def contracts_dir() -> Path:
    """``tests/contracts``, the copy of the contract data kept in the repository.

    ``$ISSUE_CORE_CONTRACTS_DIR`` overrides it (to check the fakes against newer data before
    copying it in with ``make contracts``).
    """
    override = os.environ.get(CONTRACTS_ENV)
    if override:
        return Path(override)
    return REPO_ROOT / "tests" / "contracts"


def gitea_swagger_path() -> Path:
    return contracts_dir() / "gitea" / "swagger.v1.json"


def gitea_recorded_dir() -> Path:
    return contracts_dir() / "gitea" / "recorded"


# --------------------------------------------------------------------------- schema helpers


def _is_datetime(value: object) -> bool:
    if not isinstance(value, str):
        return True  # the type check reports non-strings
    try:
        datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return False
    return "T" in value


def _allow_null(node: Any) -> Any:
    """Copy of a response schema where objects, arrays, refs and date-times accept ``null``."""
    if isinstance(node, list):
        return [_allow_null(item) for item in node]
    if not isinstance(node, dict):
        return node
    out = {key: _allow_null(value) for key, value in node.items()}
    if "$ref" in node:
        # draft 4 ignores siblings of $ref, so wrap it.
        return {"anyOf": [{"type": "null"}, {"$ref": node["$ref"]}]}
    kind = node.get("type")
    nullable = kind in ("object", "array") or (
        kind == "string" and node.get("format") == "date-time"
    )
    if nullable:
        out["type"] = [kind, "null"]
        if "enum" in out:
            out["enum"] = [*out["enum"], None]
    elif kind is None and "properties" in node:
        out["type"] = ["object", "null"]
    return out


@dataclass(frozen=True)
class Operation:
    method: str
    template: str  # path template without basePath, e.g. /repos/{owner}/{repo}/issues
    spec: Mapping[str, Any]

    @property
    def operation_id(self) -> str:
        return str(self.spec.get("operationId", f"{self.method} {self.template}"))

    def parameters(self, location: str) -> dict[str, Mapping[str, Any]]:
        return {p["name"]: p for p in self.spec.get("parameters", []) if p.get("in") == location}


@dataclass(frozen=True)
class _Template:
    template: str
    pattern: re.Pattern[str]
    names: tuple[str, ...]
    literal_segments: int


def _compile_template(template: str) -> _Template:
    names: list[str] = []
    parts: list[str] = []
    literal = 0
    for segment in template.strip("/").split("/"):
        match = re.fullmatch(r"\{([^}]+)\}", segment)
        if match:
            names.append(match.group(1))
            # {filepath}-style params may span segments in Gitea; issue paths never do.
            parts.append(r"([^/]+)")
        else:
            literal += 1
            parts.append(re.escape(segment))
    pattern = re.compile("/" + "/".join(parts))
    return _Template(template, pattern, tuple(names), literal)


def match_operation(
    templates: Sequence[_Template], paths: Mapping[str, Any], method: str, relative: str
) -> tuple[str, Mapping[str, Any], dict[str, str]] | str:
    """(template, operation, path parameters) for ``method`` + ``relative``, or why none.

    ``templates`` are tried in order (most literal segments first, so that
    ``/issues/comments/{id}`` wins over ``/issues/{index}/...``)."""
    path_matched = False
    for tpl in templates:
        match = tpl.pattern.fullmatch(relative)
        if not match:
            continue
        path_matched = True
        spec = paths[tpl.template].get(method.lower())
        if spec is not None:
            return tpl.template, spec, dict(zip(tpl.names, match.groups(), strict=True))
    if path_matched:
        return f"{method.upper()} is not an operation of {relative}"
    return f"no operation matches {relative}"


# --------------------------------------------------------------------------- the contract


class GiteaContract:
    """The Gitea Swagger document, indexed for request/response checks. Build with ``load()``."""

    def __init__(self, document: Mapping[str, Any]) -> None:
        self.document = document
        self.base_path = str(document.get("basePath", "")).rstrip("/")
        self._definitions = document.get("definitions", {})
        self._responses = document.get("responses", {})
        templates = [_compile_template(t) for t in document["paths"]]
        # Most literal segments first: /issues/comments/{id} beats /issues/{index}/...
        self._templates = sorted(templates, key=lambda t: (-t.literal_segments, t.template))
        self._validators: dict[tuple[str, bool], Any] = {}
        self._relaxed_definitions: Any = None

    @classmethod
    def load(cls) -> GiteaContract:
        return _load_gitea_contract(str(gitea_swagger_path()))

    # -- operations --------------------------------------------------------------

    def strip_base(self, path: str) -> str | None:
        if self.base_path and path.startswith(self.base_path):
            return path[len(self.base_path) :] or "/"
        return None if self.base_path else path

    def find(self, method: str, path: str) -> tuple[Operation | None, dict[str, str], str | None]:
        """The operation for ``method`` + ``path``, its path params, or a reason it has none."""
        relative = self.strip_base(path.split("?", 1)[0])
        if relative is None:
            return None, {}, f"{path} is outside basePath {self.base_path}"
        found = match_operation(self._templates, self.document["paths"], method, relative)
        if isinstance(found, str):
            return None, {}, found
        template, spec, params = found
        return Operation(method.upper(), template, spec), params, None

    # -- requests ------------------------------------------------------------------

    def check_request(
        self,
        method: str,
        path: str,
        query: str | Sequence[tuple[str, str]] | Mapping[str, str] = (),
        body: bytes | str | Any = _EMPTY,
        content_type: str | None = None,
    ) -> list[str]:
        """Problems with a request, as sentences (empty: the request is allowed)."""
        op, path_params, reason = self.find(method, path)
        if op is None:
            return [f"{method.upper()} {path}: {reason}"]
        where = f"{op.method} {op.template} ({op.operation_id})"
        problems: list[str] = []
        declared_path = op.parameters("path")
        for name, value in path_params.items():
            param = declared_path.get(name)
            if param is None:
                problems.append(f"{where}: path parameter {name!r} is not declared")
                continue
            problems += _check_scalar(param, value, f"{where}: path parameter {name!r}")
        problems += self._check_query(op, _query_pairs(query), where)
        problems += self._check_body(op, body, content_type, where)
        return problems

    def _check_query(self, op: Operation, pairs: list[tuple[str, str]], where: str) -> list[str]:
        declared = op.parameters("query")
        problems: list[str] = []
        seen: dict[str, int] = {}
        for name, value in pairs:
            seen[name] = seen.get(name, 0) + 1
            param = declared.get(name)
            if param is None:
                if name not in _AUTH_QUERY_PARAMS:
                    problems.append(f"{where}: query parameter {name!r} is not declared")
                continue
            if param.get("type") == "array":
                items = param.get("items", {})
                values = [value] if param.get("collectionFormat") == "multi" else value.split(",")
                for item in values:
                    problems += _check_scalar(items, item, f"{where}: query parameter {name!r}")
            else:
                problems += _check_scalar(param, value, f"{where}: query parameter {name!r}")
        for name, count in seen.items():
            param = declared.get(name)
            if count > 1 and param is not None and param.get("collectionFormat") != "multi":
                problems.append(f"{where}: query parameter {name!r} given {count} times")
        for name, param in declared.items():
            if param.get("required") and name not in seen:
                problems.append(f"{where}: required query parameter {name!r} is missing")
        return problems

    def _check_body(
        self, op: Operation, body: Any, content_type: str | None, where: str
    ) -> list[str]:
        body_params = [p for p in op.spec.get("parameters", []) if p.get("in") == "body"]
        present = body is not _EMPTY and body not in (b"", "", None)
        if not body_params:
            return [f"{where}: takes no request body but one was sent"] if present else []
        param = body_params[0]
        if not present:
            return [f"{where}: the request body is required"] if param.get("required") else []
        if content_type is not None and "json" not in content_type.lower():
            return [f"{where}: request body sent as {content_type!r}, expected application/json"]
        if isinstance(body, bytes | str):
            try:
                value = json.loads(body)
            except ValueError as exc:
                return [f"{where}: request body is not JSON ({exc})"]
        else:
            value = body
        return [
            f"{where}: request body {msg}"
            for msg in self.schema_errors(param["schema"], value, nullable=False)
        ]

    # -- responses -------------------------------------------------------------------

    def check_response(
        self,
        method: str,
        path: str,
        status: int,
        body: bytes | str | Any = _EMPTY,
        content_type: str | None = None,
    ) -> list[str]:
        """Problems with a response to ``method path`` (empty: the description allows it)."""
        op, _, reason = self.find(method, path)
        if op is None:
            # A request outside the description can only be answered with an error.
            if status >= 400:
                return self._check_error_body(
                    f"{method.upper()} {path}", status, body, content_type
                )
            return [f"{method.upper()} {path}: answered {status} but {reason}"]
        where = f"{op.method} {op.template} ({op.operation_id}) -> {status}"
        responses = op.spec.get("responses", {})
        declared = responses.get(str(status)) or responses.get("default")
        if declared is not None and "$ref" in declared:
            declared = self._responses.get(declared["$ref"].rsplit("/", 1)[-1], {})
        if status == 304:
            return [] if _is_empty(body) else [f"{where}: a 304 must have no body"]
        if declared is None:
            if status >= 400:
                return self._check_error_body(where, status, body, content_type)
            return [f"{where}: status {status} is not a documented response"]
        schema = declared.get("schema")
        if schema is None:
            if _is_empty(body) and (op.operation_id, status) in BODILESS_ERRORS:
                return []
            if status >= 400:
                return self._check_error_body(where, status, body, content_type)
            return [] if _is_empty(body) else [f"{where}: documented as empty but has a body"]
        value, problems = _json_body(where, body, content_type)
        if problems:
            return problems
        return [
            f"{where}: response {msg}" for msg in self.schema_errors(schema, value, nullable=True)
        ]

    def _check_error_body(
        self, where: str, status: int, body: Any, content_type: str | None
    ) -> list[str]:
        """Gitea answers errors with ``{"message": ..., "url": ...}`` (404s add ``errors``)."""
        value, problems = _json_body(where, body, content_type)
        if problems:
            return problems
        schema = {"$ref": "#/definitions/APIError"}
        problems = [
            f"{where}: error body {m}" for m in self.schema_errors(schema, value, nullable=False)
        ]
        if isinstance(value, dict) and not isinstance(value.get("message"), str):
            problems.append(f"{where}: error body has no 'message' string")
        return problems

    # -- schemas -----------------------------------------------------------------------

    def schema_errors(self, schema: Mapping[str, Any], value: Any, *, nullable: bool) -> list[str]:
        return validation_messages(self._validator_for(schema, nullable), value)

    def _validator_for(self, schema: Mapping[str, Any], nullable: bool) -> Any:
        key = (json.dumps(schema, sort_keys=True), nullable)
        cached = self._validators.get(key)
        if cached is not None:
            return cached
        import jsonschema

        definitions = self._definitions
        target: Any = copy.deepcopy(dict(schema))
        if nullable:
            definitions = self._nullable_definitions()
            target = _allow_null(target)
        # The operation's schema sits under allOf so that the definitions stay at the root.
        root = {"allOf": [target], "definitions": definitions}
        checker = jsonschema.FormatChecker(formats=())
        checker.checks("date-time")(_is_datetime)
        validator = jsonschema.Draft4Validator(root, format_checker=checker)
        self._validators[key] = validator
        return validator

    def _nullable_definitions(self) -> Any:
        if self._relaxed_definitions is None:
            self._relaxed_definitions = _allow_null(self._definitions)
        return self._relaxed_definitions

    def raise_for(self, problems: Iterable[str]) -> None:
        problems = list(problems)
        if problems:
            raise ContractViolation("; ".join(problems))


@cache
def _load_gitea_contract(path: str) -> GiteaContract:
    with open(path, encoding="utf-8") as handle:
        return GiteaContract(json.load(handle))


# --------------------------------------------------------------------------- small helpers


def _query_pairs(
    query: str | Sequence[tuple[str, str]] | Mapping[str, str],
) -> list[tuple[str, str]]:
    if isinstance(query, str):
        return parse_qsl(query.lstrip("?"), keep_blank_values=True)
    if isinstance(query, Mapping):
        return [(str(k), str(v)) for k, v in query.items()]
    return [(str(k), str(v)) for k, v in query]


def _check_scalar(param: Mapping[str, Any], raw: str, what: str) -> list[str]:
    kind = param.get("type")
    if kind == "integer":
        if not re.fullmatch(r"-?\d+", raw):
            return [f"{what} must be an integer, got {raw!r}"]
    elif kind == "number":
        try:
            float(raw)
        except ValueError:
            return [f"{what} must be a number, got {raw!r}"]
    elif kind == "boolean":
        if raw not in ("true", "false", "1", "0", "True", "False"):
            return [f"{what} must be a boolean, got {raw!r}"]
    elif kind == "string" and param.get("format") == "date-time" and not _is_datetime(raw or "-"):
        return [f"{what} must be an RFC 3339 date-time, got {raw!r}"]
    enum = param.get("enum")
    if enum is not None and raw not in [str(e) for e in enum]:
        return [f"{what} must be one of {enum}, got {raw!r}"]
    return []


def validation_messages(validator: Any, value: Any) -> list[str]:
    """A jsonschema validator's errors for ``value``, the specific ones, as sentences."""
    leaves = [leaf for error in validator.iter_errors(value) for leaf in _leaf_errors(error)]
    errors = sorted(leaves, key=lambda e: [str(p) for p in e.absolute_path])
    out = []
    for error in errors[:10]:
        location = "/".join(str(p) for p in error.absolute_path) or "(root)"
        out.append(f"at {location}: {error.message[:300]}")
    return out


def _leaf_errors(error: Any) -> Iterable[Any]:
    """The specific reasons under an anyOf (the null rule wraps every $ref in one)."""
    if not error.context:
        yield error
        return
    found = False
    for sub in error.context:
        if sub.validator == "type" and sub.validator_value == "null":
            continue  # "is not null" says nothing useful
        found = True
        yield from _leaf_errors(sub)
    if not found:
        yield error


# Errors Gitea answers with ``ctx.Status(...)``, i.e. without any body, rather than with an
# APIError (routers/api/v1/repo/issue_comment.go: a comment of another repository is a bare
# 404, a user who is neither its poster nor a writer gets a bare 403).
BODILESS_ERRORS = frozenset(
    {
        ("issueEditComment", 403),
        ("issueEditComment", 404),
        ("issueDeleteComment", 403),
        ("issueDeleteComment", 404),
    }
)


def _is_empty(body: Any) -> bool:
    return body is _EMPTY or body in (b"", "", None)


def _json_body(where: str, body: Any, content_type: str | None) -> tuple[Any, list[str]]:
    if _is_empty(body):
        return None, [f"{where}: expected a JSON body, got none"]
    if content_type is not None and "application/json" not in content_type.lower():
        return None, [f"{where}: Content-Type is {content_type!r}, expected application/json"]
    if isinstance(body, bytes | str):
        try:
            return json.loads(body), []
        except ValueError as exc:
            return None, [f"{where}: body is not valid JSON ({exc})"]
    return body, []
