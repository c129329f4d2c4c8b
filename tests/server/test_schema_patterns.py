"""The OpenAPI document's patterns describe exactly what the validators accept, so a client (or
schemathesis) that follows the document is never refused and never let through wrongly."""

from __future__ import annotations

import re
import sys
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from issue_core.core.errors import IssueCoreError
from issue_core.core.models import validate_label_name, validate_title
from issue_core.server.schema import (
    LABEL_SCHEMA_PATTERN,
    NO_CONTROLS_SCHEMA_PATTERN,
    PRIORITY_SCHEMA_PATTERN,
    TITLE_SCHEMA_PATTERN,
    USERNAME_SCHEMA_PATTERN,
    TaskSpec,
    describe_free_json,
)

# The characters the rules are about, and a few ordinary ones.
EDGY = list("ab@,-_.Z9 \t\n\r\x00\x0b\x0c\x1c\x1f\x7f\x85\x9a\xa0\u2028\u3000\u212aé")


def _accepts(check: Callable[[str], Any], value: str) -> bool:
    try:
        check(value)
    except IssueCoreError:
        return False
    return True


def _task(**fields: Any) -> None:
    from pydantic import ValidationError

    try:
        TaskSpec.model_validate({"title": "t", **fields})
    except ValidationError as exc:
        raise IssueCoreError(str(exc)) from None


def _field(name: str) -> Callable[[str], None]:
    return lambda value: _task(**{name: value})


def _matches(pattern: str, value: str) -> bool:
    # JSON Schema patterns are ECMA-262, where "$" is the end of the text (a full match); the
    # Python tools that read the document (hypothesis, jsonschema) search, and their "$" also
    # matches before a final newline. The pattern must mean the same to both.
    assert pattern.startswith("^") and pattern.endswith("$")
    ecma = re.fullmatch(pattern[1:-1], value) is not None
    assert ecma == (re.search(pattern, value) is not None), (pattern, value)
    return ecma


PYTHON_BLANKS = [chr(code) for code in range(sys.maxunicode + 1) if chr(code).isspace()]
CASES = [
    ("title", TITLE_SCHEMA_PATTERN, validate_title),
    ("label", LABEL_SCHEMA_PATTERN, validate_label_name),
    ("assignee", USERNAME_SCHEMA_PATTERN, _field("assignee")),
    ("priority", PRIORITY_SCHEMA_PATTERN, _field("priority")),
    # (a name's length, 1-200, is the document's minLength/maxLength, not the pattern's)
    ("name", NO_CONTROLS_SCHEMA_PATTERN, lambda value: _task(source_id=value or "x")),
    ("metadata key", NO_CONTROLS_SCHEMA_PATTERN, lambda key: _task(metadata={key: 1})),
    ("extra field", NO_CONTROLS_SCHEMA_PATTERN, lambda text: _task(extra={"a": [text]})),
]


@pytest.mark.parametrize(("name", "pattern", "check"), CASES, ids=[c[0] for c in CASES])
def test_the_pattern_is_the_validator(name: str, pattern: str, check: Any) -> None:
    @settings(max_examples=600, deadline=None, database=None)
    @given(st.text(alphabet=st.sampled_from(EDGY), max_size=8))
    def same(value: str) -> None:
        assert _matches(pattern, value) == _accepts(check, value), repr(value)

    same()


@pytest.mark.parametrize(("name", "pattern", "check"), CASES, ids=[c[0] for c in CASES])
def test_every_blank_python_strips_is_a_blank_of_the_pattern(
    name: str, pattern: str, check: Any
) -> None:
    for char in PYTHON_BLANKS:
        for value in (f"{char}a{char}", f"a{char}a", char):
            assert _matches(pattern, value) == _accepts(check, value), (name, hex(ord(char)))


def test_the_document_carries_the_patterns() -> None:
    schema = TaskSpec.model_json_schema()
    properties = schema["properties"]
    assert properties["title"]["pattern"] == TITLE_SCHEMA_PATTERN
    assert properties["labels"]["items"]["pattern"] == LABEL_SCHEMA_PATTERN
    assert properties["assignee"]["pattern"] == USERNAME_SCHEMA_PATTERN
    [text, number, _null] = properties["priority"]["anyOf"]
    assert text["pattern"] == PRIORITY_SCHEMA_PATTERN
    assert (number["minimum"], number["maximum"]) == (0, 10**40 - 1)


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(alphabet=st.sampled_from(EDGY)),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(st.text(alphabet=st.sampled_from(EDGY), max_size=3), inner, max_size=3)
    ),
    max_leaves=6,
)


def test_the_documents_free_json_is_what_the_server_takes() -> None:
    from jsonschema import Draft202012Validator

    schemas = {"TaskSpec": TaskSpec.model_json_schema(ref_template="#/components/schemas/{model}")}
    schemas.update(schemas["TaskSpec"].pop("$defs"))
    describe_free_json(schemas)
    document = Draft202012Validator(
        {"$ref": "#/components/schemas/TaskSpec", "components": {"schemas": schemas}}
    )

    @settings(max_examples=400, deadline=None, database=None)
    @given(JSON, JSON)
    def same(metadata: Any, extra: Any) -> None:
        for body in (
            {"title": "t", "metadata": {"m": metadata}},
            {"title": "t", "x": extra},
            {"title": "t", "source": {"system": "s", "y": extra}},
        ):
            valid = document.is_valid(body)
            assert valid == _accepts(lambda b: _task(**b), body), body

    same()
