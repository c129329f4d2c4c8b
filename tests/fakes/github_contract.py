"""Check HTTP exchanges against GitHub's official REST description (the OpenAPI 3.0.3 subset).

``GitHubContract`` finds the operation a request targets (paths under the API root, with or
without GitHub Enterprise Server's ``/api/v3`` prefix; ``/repositories/{id}/...`` is treated as
``/repos/{owner}/{repo}/...``, the form GitHub's own ``Link`` and ``Location`` headers use),
checks its path and query parameters and its JSON body (``requestBody``), and checks a response
body against the operation's schema for that status. Every problem is one sentence.

Schemas are validated with ``openapi-schema-validator`` (OAS 3.0: ``nullable``, read/write
only), with the two quirks ``tests/contracts/README.md`` lists for GitHub:

* ``nullable: true`` also lets ``null`` through an ``enum`` or a ``oneOf``/``anyOf`` (GitHub
  marks ``state_reason`` nullable but leaves ``null`` out of its enum, and real issues carry
  ``"state_reason": null``);
* the ``oneOf`` of ``/users/{username}`` (and the same private/public user pair of ``/user``)
  is read as ``anyOf``: a full user body matches both branches.

Answers the description does not list per operation but GitHub documents for every endpoint
are held to GitHub's error shapes instead: an error status (401, 403/429 rate limits, 5xx...)
must carry a ``basic-error`` body with a ``message`` string (422: a ``validation-error``), and a
redirect (301, 302, 307: "HTTP redirects" in GitHub's REST docs) a ``basic-error`` with ``url``.
``GET /meta``, outside the subset but what Enterprise detection probes, is checked against the
few fields of GitHub's ``api-overview`` a client relies on.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any

from tests.fakes.contracts import (
    _EMPTY,
    ContractViolation,
    _check_scalar,
    _compile_template,
    _is_datetime,
    _is_empty,
    _json_body,
    _query_pairs,
    contracts_dir,
    match_operation,
    validation_messages,
)

GHES_PREFIX = "/api/v3"
_BY_ID = re.compile(r"^/repositories/(\d+)(/.*)?$")
# Operations whose response ``oneOf`` is read as ``anyOf`` (see the module docstring).
_ONEOF_AS_ANYOF = frozenset({"users/get-by-username", "users/get-authenticated"})
_REDIRECTS = frozenset({301, 302, 307})
# GitHub's api-overview: the fields a client reads from /meta (the full schema is not in the
# subset). On GitHub Enterprise Server ``installed_version`` says which release it runs.
META_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["verifiable_password_authentication"],
    "properties": {
        "verifiable_password_authentication": {"type": "boolean"},
        "installed_version": {"type": "string"},
        "ssh_key_fingerprints": {"type": "object"},
        "hooks": {"type": "array", "items": {"type": "string"}},
        "web": {"type": "array", "items": {"type": "string"}},
        "api": {"type": "array", "items": {"type": "string"}},
        "git": {"type": "array", "items": {"type": "string"}},
    },
}


def github_openapi_path() -> Path:
    return contracts_dir() / "github" / "openapi.issues.json"


def _nullable_quirk(node: Any) -> Any:
    """Copy of a schema where ``nullable`` also admits ``null`` to an enum or a oneOf."""
    if isinstance(node, list):
        return [_nullable_quirk(item) for item in node]
    if not isinstance(node, dict):
        return node
    out = {key: _nullable_quirk(value) for key, value in node.items()}
    if node.get("nullable") is True:
        if "enum" in out and None not in out["enum"]:
            out["enum"] = [*out["enum"], None]
        for combinator in ("oneOf", "anyOf"):
            if combinator in out:
                out[combinator] = [*out[combinator], {"enum": [None]}]
    return out


def _oneof_as_anyof(node: Any) -> Any:
    if isinstance(node, dict) and "oneOf" in node:
        out = {k: v for k, v in node.items() if k not in ("oneOf", "discriminator")}
        out["anyOf"] = node["oneOf"]
        return out
    return node


class GitHubContract:
    """The GitHub OpenAPI subset, indexed for request/response checks. Build with ``load()``."""

    def __init__(self, document: Mapping[str, Any]) -> None:
        self.document = document
        self.components = _nullable_quirk(document.get("components", {}))
        templates = [_compile_template(t) for t in document["paths"]]
        self._templates = sorted(templates, key=lambda t: (-t.literal_segments, t.template))
        self._validators: dict[tuple[str, str], Any] = {}

    @classmethod
    def load(cls) -> GitHubContract:
        return _load_github_contract(str(github_openapi_path()))

    # -- operations --------------------------------------------------------------

    def _relative(self, path: str) -> tuple[str, bool]:
        """The path under the API root, and whether it addressed a repository by id."""
        path = path.split("?", 1)[0]
        if path == GHES_PREFIX or path.startswith(GHES_PREFIX + "/"):
            path = path[len(GHES_PREFIX) :] or "/"
        match = _BY_ID.match(path)
        if match:
            return "/repos/{owner}/{repo}" + (match.group(2) or ""), True
        return path, False

    def find(self, method: str, path: str) -> tuple[dict[str, Any] | None, dict[str, str], str]:
        """The operation for ``method`` + ``path`` (with ``where``), its path parameters, or
        (None, {}, the reason there is none)."""
        relative, by_id = self._relative(path)
        found = match_operation(self._templates, self.document["paths"], method, relative)
        if isinstance(found, str):
            return None, {}, found
        template, spec, params = found
        if by_id:
            params.pop("owner", None)
            params.pop("repo", None)
        op = {
            "spec": spec,
            "item": self.document["paths"][template],
            "template": template,
            "where": f"{method.upper()} {template} ({spec.get('operationId')})",
        }
        return op, params, ""

    def _resolve(self, node: Any) -> Any:
        while isinstance(node, dict) and "$ref" in node:
            parts = node["$ref"].lstrip("#/").split("/")
            target: Any = self.document
            for part in parts:
                target = target[part]
            node = target
        return node

    def _parameters(self, op: dict[str, Any], location: str) -> dict[str, dict[str, Any]]:
        found: dict[str, dict[str, Any]] = {}
        for raw in [*op["item"].get("parameters", []), *op["spec"].get("parameters", [])]:
            param = self._resolve(raw)
            if param.get("in") == location:
                found[param["name"]] = param
        return found

    # -- requests ------------------------------------------------------------------

    def check_request(
        self,
        method: str,
        path: str,
        query: Any = (),
        body: Any = _EMPTY,
        content_type: str | None = None,
    ) -> list[str]:
        """Problems with a request, as sentences (empty: GitHub's description allows it)."""
        if method.upper() == "GET" and self._relative(path)[0] == "/meta":
            return [] if not query else [f"GET {path}: /meta takes no query parameters"]
        op, path_params, reason = self.find(method, path)
        if op is None:
            return [f"{method.upper()} {path}: {reason}"]
        where = op["where"]
        problems: list[str] = []
        declared_path = self._parameters(op, "path")
        for name, value in path_params.items():
            param = declared_path.get(name)
            if param is None:
                problems.append(f"{where}: path parameter {name!r} is not declared")
                continue
            problems += _check_scalar(
                param.get("schema", {}), value, f"{where}: path parameter {name!r}"
            )
        problems += self._check_query(op, _query_pairs(query), where)
        problems += self._check_body(op, body, content_type, where)
        return problems

    def _check_query(
        self, op: dict[str, Any], pairs: list[tuple[str, str]], where: str
    ) -> list[str]:
        declared = self._parameters(op, "query")
        problems: list[str] = []
        seen: dict[str, int] = {}
        for name, value in pairs:
            seen[name] = seen.get(name, 0) + 1
            param = declared.get(name)
            if param is None:
                problems.append(f"{where}: query parameter {name!r} is not declared")
                continue
            problems += _check_scalar(
                param.get("schema", {}), value, f"{where}: query parameter {name!r}"
            )
        for name, count in seen.items():
            if count > 1 and name in declared:
                problems.append(f"{where}: query parameter {name!r} given {count} times")
        for name, param in declared.items():
            if param.get("required") and name not in seen:
                problems.append(f"{where}: required query parameter {name!r} is missing")
        return problems

    def _check_body(
        self, op: dict[str, Any], body: Any, content_type: str | None, where: str
    ) -> list[str]:
        spec = self._resolve(op["spec"].get("requestBody"))
        present = not _is_empty(body)
        if spec is None:
            return [f"{where}: takes no request body but one was sent"] if present else []
        if not present:
            return [f"{where}: the request body is required"] if spec.get("required") else []
        if content_type is not None and "json" not in content_type.lower():
            return [f"{where}: request body sent as {content_type!r}, expected application/json"]
        value, problems = _json_body(where + ": request", body, None)
        if problems:
            return problems
        schema = spec.get("content", {}).get("application/json", {}).get("schema", {})
        return [f"{where}: request body {m}" for m in self.schema_errors(schema, value, "write")]

    # -- responses -------------------------------------------------------------------

    def check_response(
        self,
        method: str,
        path: str,
        status: int,
        body: Any = _EMPTY,
        content_type: str | None = None,
    ) -> list[str]:
        """Problems with a response to ``method path`` (empty: the description allows it)."""
        if method.upper() == "GET" and self._relative(path)[0] == "/meta" and status == 304:
            return [] if _is_empty(body) else [f"GET {path} -> 304: a 304 must have no body"]
        if method.upper() == "GET" and self._relative(path)[0] == "/meta" and status == 200:
            value, problems = _json_body(f"GET {path} -> 200", body, content_type)
            if problems:
                return problems
            return [f"GET /meta -> 200: {m}" for m in self.schema_errors(META_SCHEMA, value)]
        op, _, reason = self.find(method, path)
        if op is None:
            if status >= 400:
                return self._check_error(
                    f"{method.upper()} {path} -> {status}", status, body, content_type
                )
            return [f"{method.upper()} {path}: answered {status} but {reason}"]
        where = f"{op['where']} -> {status}"
        if status == 304:
            return [] if _is_empty(body) else [f"{where}: a 304 must have no body"]
        responses = op["spec"].get("responses", {})
        declared = self._resolve(responses.get(str(status)) or responses.get("default"))
        if declared is None:
            if status >= 400 or status in _REDIRECTS:
                return self._check_error(where, status, body, content_type)
            return [f"{where}: status {status} is not a documented response"]
        content = declared.get("content")
        if not content:
            return [] if _is_empty(body) else [f"{where}: documented as empty but has a body"]
        value, problems = _json_body(where, body, content_type)
        if problems:
            return problems
        schema = content.get("application/json", {}).get("schema", {})
        if op["spec"].get("operationId") in _ONEOF_AS_ANYOF:
            schema = _oneof_as_anyof(self._resolve(schema))
        problems = [f"{where}: response {m}" for m in self.schema_errors(schema, value, "read")]
        if status >= 400 or status in _REDIRECTS:
            problems += _error_fields(where, status, value)
        return problems

    def _check_error(
        self, where: str, status: int, body: Any, content_type: str | None
    ) -> list[str]:
        value, problems = _json_body(where, body, content_type)
        if problems:
            return problems
        name = "validation-error" if status == 422 else "basic-error"
        schema = {"$ref": f"#/components/schemas/{name}"}
        problems = [f"{where}: error body {m}" for m in self.schema_errors(schema, value, "read")]
        return problems + _error_fields(where, status, value)

    # -- schemas -----------------------------------------------------------------------

    def schema_errors(self, schema: Mapping[str, Any], value: Any, mode: str = "read") -> list[str]:
        return validation_messages(self._validator_for(schema, mode), value)

    def _validator_for(self, schema: Mapping[str, Any], mode: str) -> Any:
        key = (json.dumps(schema, sort_keys=True), mode)
        cached = self._validators.get(key)
        if cached is not None:
            return cached
        import jsonschema
        from openapi_schema_validator import OAS30ReadValidator, OAS30WriteValidator

        checker = jsonschema.FormatChecker(formats=())
        checker.checks("date-time")(_is_datetime)
        root = {
            "components": self.components,
            "allOf": [_nullable_quirk(copy.deepcopy(dict(schema)))],
        }
        cls = OAS30WriteValidator if mode == "write" else OAS30ReadValidator
        validator = cls(root, format_checker=checker)
        self._validators[key] = validator
        return validator

    def raise_for(self, problems: list[str]) -> None:
        if problems:
            raise ContractViolation("; ".join(problems))


def _error_fields(where: str, status: int, value: Any) -> list[str]:
    """What every GitHub error carries (its schemas leave it optional): a ``message``, and for a
    redirect the ``url`` to repeat the request at."""
    if not isinstance(value, dict) or not isinstance(value.get("message"), str):
        return [f"{where}: error body has no 'message' string"]
    if status in _REDIRECTS and not isinstance(value.get("url"), str):
        return [f"{where}: a redirect body has no 'url' string"]
    return []


@cache
def _load_github_contract(path: str) -> GitHubContract:
    with open(path, encoding="utf-8") as handle:
        return GitHubContract(json.load(handle))
