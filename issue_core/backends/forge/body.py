"""The hidden metadata block at the end of an issue body.

Gitea has no field for free-form data, so ``sync_metadata`` travels in the body as one HTML
comment on its own line, which Gitea's Markdown renderer does not show::

    The description a human reads and edits.

    <!-- issue-core:sync-metadata {"marker":"abc","source":"local#12"} -->

Rules that keep it robust: the block is always written last, after a blank line; reading takes
the *last* block, so a human editing the text above it (or appending below it) keeps it; ``<`` and
``>`` inside the JSON are escaped so the text can never close the comment early; a block whose
JSON does not parse is not a block (it stays part of the description, nothing is lost). The
reserved key ``issue-core:create`` carries a one-off token that lets a retried create find the
issue an earlier, ambiguous attempt already made; it is not part of ``sync_metadata``. Other
``issue-core:`` keys carry fields Gitea has no place for (``issue-core:priority``) or keeps less
precisely (``issue-core:due``, the exact due instant beside Gitea's day-precision due date),
and ``issue-core:close-reason`` where a forge keeps no reason for a close (Gitea, GitLab);
``take_reserved`` separates them from ``sync_metadata``.

``issue-core:links`` holds the dependencies a forge cannot keep natively (``forge.links``), as
seen from this issue: ``{"parent": [3], "children": [7], "related": [5]}`` (issue numbers, by
relation). No field of ``Issue`` carries it, so every rewrite of the body keeps the stored value
(``KEPT_KEYS``, ``kept_reserved``) and only ``with_reserved`` changes it.

A comment written by a named agent (``--as NAME``) ends with the same block holding only
``issue-core:agent`` (``sign_comment``), so that agents sharing one token stay told apart::

    Looks good to me.

    <!-- issue-core:sync-metadata {"issue-core:agent":"worker-1"} -->

A comment added with a marker (sync's client-generated id: ``add_comment(marker=...)``)
carries it in the same block as ``issue-core:comment-marker``, beside the agent's name if any::

    Looks good to me.

    <!-- issue-core:sync-metadata {"issue-core:comment-marker":"s1-c9"} -->

``comment_signature`` reads it back (the text without the block, the name and the marker); a
block with other keys, or a name or marker that is not a plain name, is left in the text as
written.
"""

from __future__ import annotations

import json
from typing import Any

from issue_core.core.errors import ValidationError
from issue_core.core.models import CloseReason

BLOCK_START = "<!-- issue-core:sync-metadata "
BLOCK_END = "-->"
SEPARATOR = "\n\n"
CREATE_TOKEN_KEY = "issue-core:create"
RESERVED_PREFIX = "issue-core:"
PRIORITY_KEY = "issue-core:priority"
DUE_KEY = "issue-core:due"
CLOSE_REASON_KEY = "issue-core:close-reason"
AGENT_KEY = "issue-core:agent"
LINKS_KEY = "issue-core:links"
# Reserved keys no field of ``Issue`` carries: a body written from an issue keeps them as stored.
LEASE_KEY = "issue-core:lease"  # a sealed lease (forge.claims: Gitea's content_version)
KEPT_KEYS = (LINKS_KEY, LEASE_KEY)
COMMENT_MARKER_KEY = "issue-core:comment-marker"
CLAIM_KEY = "issue-core:claim"  # a claim marker's record (forge.leases)
_COMMENT_KEYS = frozenset({AGENT_KEY, COMMENT_MARKER_KEY})


def take_reserved(metadata: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """``(sync_metadata, reserved)``: the ``issue-core:`` keys are the backend's own."""
    plain = {k: v for k, v in metadata.items() if not k.startswith(RESERVED_PREFIX)}
    reserved = {k: v for k, v in metadata.items() if k.startswith(RESERVED_PREFIX)}
    return plain, reserved


def close_reason_of(reserved: dict[str, Any], *, closed: bool) -> CloseReason | None:
    """The reason kept in the block, for a closed issue; a close made elsewhere (the web UI),
    or a hand-edited nonsense value, reads as a plain close: ``completed``."""
    if not closed:
        return None
    try:
        return CloseReason.parse(reserved.get(CLOSE_REASON_KEY)) or CloseReason.COMPLETED
    except ValidationError:
        return CloseReason.COMPLETED


def compose_body(
    description: str,
    metadata: dict[str, Any],
    *,
    create_token: str | None = None,
    reserved: dict[str, Any] | None = None,
) -> str:
    clashing = sorted(k for k in metadata if k.startswith(RESERVED_PREFIX))
    if clashing:
        # Never dropped silently: the prefix is the backend's own namespace in the block.
        raise ValidationError(
            f"sync_metadata key {clashing[0]!r} uses the reserved prefix {RESERVED_PREFIX!r}",
            hint="choose another key name",
        )
    payload = dict(metadata)
    payload.update({k: v for k, v in (reserved or {}).items() if v is not None})
    if create_token:
        payload[CREATE_TOKEN_KEY] = create_token
    if not payload:
        return description
    encoded = json.dumps(payload, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    # JSON strings may hold "-->": escaping the angle brackets keeps the comment closed.
    encoded = encoded.replace("<", "\\u003c").replace(">", "\\u003e")
    block = f"{BLOCK_START}{encoded} {BLOCK_END}"
    return f"{description}{SEPARATOR}{block}" if description else block


def split_body(body: str | None) -> tuple[str, dict[str, Any], str | None]:
    """``(description, sync_metadata, create_token)`` from a stored body."""
    text = body or ""
    start = text.rfind(BLOCK_START)
    if start < 0:
        return text, {}, None
    end = text.find(BLOCK_END, start + len(BLOCK_START))
    if end < 0:
        return text, {}, None
    try:
        data = json.loads(text[start + len(BLOCK_START) : end])
    except ValueError:
        return text, {}, None
    if not isinstance(data, dict):
        return text, {}, None
    token = data.pop(CREATE_TOKEN_KEY, None)
    before = text[:start]
    if before.endswith(SEPARATOR):
        before = before[: -len(SEPARATOR)]
    elif before.endswith("\r\n\r\n"):  # a browser's textarea may have turned \n into \r\n
        before = before[:-4]
    after = text[end + len(BLOCK_END) :].strip("\r\n")
    description = before
    if after.strip():  # a human wrote below the block: keep that text too
        description = f"{before}{SEPARATOR}{after}" if before else after
    return description, data, token if isinstance(token, str) else None


def kept_reserved(body: str | None) -> dict[str, Any]:
    """The ``KEPT_KEYS`` of the block in ``body``, as stored (for a body rewritten from an
    issue, which knows nothing of them)."""
    _, data, _ = split_body(body)
    return {key: data[key] for key in KEPT_KEYS if key in data}


def with_reserved(body: str | None, key: str, value: Any) -> str:
    """``body`` with reserved ``key`` set to ``value`` (removed when ``None``), everything else
    in it (the description, ``sync_metadata``, the other keys, a create token) kept."""
    description, data, token = split_body(body)
    metadata, reserved = take_reserved(data)
    reserved[key] = value
    return compose_body(description, metadata, create_token=token, reserved=reserved)


def sign_comment(text: str, agent: str | None, marker: str | None = None) -> str:
    """The comment text as written on the forge: ``text`` with the block naming the agent
    and carrying the marker, when there is either."""
    if not agent and not marker:
        return text
    return compose_body(text, {}, reserved={AGENT_KEY: agent, COMMENT_MARKER_KEY: marker})


def comment_signature(text: str) -> tuple[str, str | None, str | None]:
    """``(text, agent, marker)`` of a comment as stored on the forge (see ``sign_comment``)."""
    if BLOCK_START not in text:
        return text, None, None
    description, data, token = split_body(text)
    claim = data.get(CLAIM_KEY)
    if token is None and set(data) == {CLAIM_KEY} and isinstance(claim, dict):
        # A claim marker reads as its one line, by its agent: the record is the protocol's,
        # and a copy of the comment elsewhere (sync) must not become a claim there.
        agent = claim.get("agent")
        return description, agent if _plain_name(agent) else None, None
    agent, marker = data.get(AGENT_KEY), data.get(COMMENT_MARKER_KEY)
    if token is not None or not data or not set(data) <= _COMMENT_KEYS:
        return text, None, None
    if any(value is not None and not _plain_name(value) for value in (agent, marker)):
        return text, None, None
    return description, agent, marker


def _plain_name(value: object) -> bool:
    return (
        isinstance(value, str)
        and 0 < len(value) <= 200
        and all(ch.isprintable() and not ch.isspace() for ch in value)
    )
