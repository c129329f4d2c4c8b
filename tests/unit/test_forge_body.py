"""The hidden metadata block every forge keeps at the end of an issue body (forge/body.py)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from issue_core.backends.forge.body import compose_body, split_body, take_reserved


def test_metadata_block_round_trips_and_is_hidden_from_the_description():
    body = compose_body("Fix it.\n\nSteps:\n1. x", {"marker": "m-1", "source": "local#3"})
    assert body.endswith("-->")
    assert "\n\n<!-- issue-core:sync-metadata " in body
    description, metadata, token = split_body(body)
    assert description == "Fix it.\n\nSteps:\n1. x"
    assert metadata == {"marker": "m-1", "source": "local#3"}
    assert token is None


def test_metadata_block_survives_a_human_edit_above_it():
    body = compose_body("Original text", {"marker": "abc"})
    edited = body.replace("Original text", "Rewritten by a human\nwith two lines")
    description, metadata, _ = split_body(edited)
    assert description == "Rewritten by a human\nwith two lines"
    assert metadata == {"marker": "abc"}


def test_text_a_human_appends_below_the_block_is_kept():
    body = compose_body("Top", {"k": 1}) + "\n\nAdded later"
    description, metadata, _ = split_body(body)
    assert description == "Top\n\nAdded later" and metadata == {"k": 1}


def test_malformed_block_is_ignored_not_a_crash():
    body = "Text\n\n<!-- issue-core:sync-metadata {not json -->"
    assert split_body(body) == (body, {}, None)
    unterminated = 'Text\n\n<!-- issue-core:sync-metadata {"a": 1}'
    assert split_body(unterminated) == (unterminated, {}, None)
    not_object = "<!-- issue-core:sync-metadata [1,2] -->"
    assert split_body(not_object)[1] == {}


def test_metadata_cannot_close_the_comment_early():
    body = compose_body("d", {"note": "--> <script>", "nested": {"x": [1, "<!--"]}})
    assert body.count("-->") == 1
    assert split_body(body)[1] == {"note": "--> <script>", "nested": {"x": [1, "<!--"]}}


def test_create_token_is_not_sync_metadata():
    body = compose_body("d", {"a": 1}, create_token="tok")
    description, metadata, token = split_body(body)
    assert (description, metadata, token) == ("d", {"a": 1}, "tok")
    assert compose_body("only", {}) == "only"
    assert split_body(compose_body("", {"a": 1})) == ("", {"a": 1}, None)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner, max_size=3),
    max_leaves=8,
)


user_keys = st.text().filter(lambda key: not key.startswith("issue-core:"))


@given(st.text(), st.dictionaries(user_keys, json_values, max_size=4))
def test_any_description_and_metadata_round_trip(description, metadata):
    assert split_body(compose_body(description, metadata)) == (description, metadata, None)


def test_metadata_keys_in_the_reserved_namespace_are_refused_not_dropped():
    from issue_core.core.errors import ValidationError

    with pytest.raises(ValidationError, match="reserved prefix"):
        compose_body("text", {"issue-core:priority": 1, "mine": 2})


def test_reserved_keys_are_the_backends_own_not_sync_metadata():
    body = compose_body("d", {"a": 1}, reserved={"issue-core:priority": 2, "issue-core:due": None})
    description, block, _ = split_body(body)
    assert description == "d" and block == {"a": 1, "issue-core:priority": 2}
    assert take_reserved(block) == ({"a": 1}, {"issue-core:priority": 2})


def test_a_textarea_turning_newlines_into_crlf_keeps_the_block():
    body = compose_body("Line one", {"k": "v"}).replace("\n", "\r\n")
    assert split_body(body) == ("Line one", {"k": "v"}, None)
