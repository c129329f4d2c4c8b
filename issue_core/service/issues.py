"""Issue use cases: list, create, edit, close/reopen with a comment, comments by id or last,
delete.

What every front end does the same way lives here once: ``@me`` is the identity the backend acts
as, ``--search`` needs ``FULL_TEXT_SEARCH``, labels named on a write are created unless the
configuration says ``labels.create = "never"`` (and the caller learns which ones were new),
closing a closed issue changes nothing and still adds its comment, "my last comment" is the
acting user's newest one, a delete asks about every issue before the first one goes. Functions
take a connected backend and domain models and return results; wording and printing are the
front end's.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from issue_core.core.errors import IssueCoreError, NotFound, ValidationError
from issue_core.core.interfaces import Capability
from issue_core.core.models import (
    CloseReason,
    IssueState,
    close_reason_for,
    validate_comment,
    validate_username,
)

if TYPE_CHECKING:
    from issue_core.core.config import Config
    from issue_core.core.interfaces import IssueBackend
    from issue_core.core.models import Comment, Issue, IssueChanges, IssueFilter
    from issue_core.core.query import Query

ME = "@me"
# A backend, or how to get one: ``@me`` asks for it only when it is used, so a command whose
# other input is bad fails before anything is opened.
BackendSource = Callable[[], "IssueBackend"]


def resolve_me(value: str | None, backend: BackendSource) -> str | None:
    """``@me`` stands for the identity the backend acts as (``issue whoami``), like in gh:
    on a forge the token's owner, on the local store the configured identity."""
    if value == ME:
        return backend().whoami().username
    return value


def usernames(values: Iterable[str], backend: BackendSource) -> list[str]:
    """User names as given (``@me`` is you, ``@bob`` is bob), checked; empty ones dropped."""
    resolved = (resolve_me(name, backend) for name in values)
    return [validate_username(name) for name in resolved if name]


def list_issues(backend: IssueBackend, issue_filter: IssueFilter) -> list[Issue]:
    """The issues ``issue_filter`` selects; a text search on a backend without full-text
    search is refused (``Unsupported``) rather than answered without the text condition."""
    if issue_filter.text:
        backend.require(Capability.FULL_TEXT_SEARCH, "full-text search (--search)")
    query = issue_filter.query
    if query is None:
        return backend.list_issues(issue_filter)
    query = query.with_me(lambda: backend.whoami().username)
    if backend.supports(Capability.QUERY_LANGUAGE):
        return backend.list_issues(issue_filter.with_query(query))
    return _matching(backend, issue_filter, query)


def _matching(backend: IssueBackend, issue_filter: IssueFilter, query: Query) -> list[Issue]:
    """A query on a backend that cannot run one: its own filters first (what the query implies,
    ``core.query.pushdown``), then ``Query.matches``, reading an issue's comments only when a
    word is not in its title or description; the limit applies to the matches."""
    from issue_core.core.query.pushdown import pushed_filter

    def comments_of(issue: Issue) -> Callable[[], str] | None:
        if not (backend.supports(Capability.COMMENTS) and issue.number and issue.comments_count):
            return lambda: ""
        number = issue.number
        return lambda: "\n".join(comment.body for comment in backend.list_comments(number))

    found = [
        issue
        for issue in backend.list_issues(pushed_filter(issue_filter, query))
        if query.matches(issue, comments_of(issue))  # the pushed filter holds issue_filter
    ]
    return found[: issue_filter.limit] if issue_filter.limit is not None else found


def get_issue(backend: IssueBackend, number: int, *, with_comments: bool = False) -> Issue:
    """Issue ``number`` (``NotFound`` if there is none), with its comments when asked."""
    return backend.get_issue(number, with_comments=with_comments)


# -- writes that may create labels ---------------------------------------------------------


class Written:
    """A stored issue and the labels the write created (in the order they were named)."""

    def __init__(self, issue: Issue, created_labels: list[str]) -> None:
        self.issue = issue
        self.created_labels = created_labels


def may_create_labels(config: Config, *, forced: bool = False) -> bool:
    """Labels named on create/edit are created by default (the original tool's walkthrough
    names labels no one made first); ``labels.create = "never"`` keeps a fixed label set
    strict, unless the caller insists (``--create-labels``)."""
    return forced or config.labels_create() != "never"


def _missing_labels(backend: IssueBackend, names: list[str], allowed: bool) -> list[str]:
    if not (allowed and names):
        return []
    known = {label.name.lower() for label in backend.list_labels()}
    return list(dict.fromkeys(n for n in names if n.lower() not in known))


def create_issue(backend: IssueBackend, issue: Issue, *, create_labels: bool) -> Written:
    """Store a new issue; with ``create_labels`` its unknown labels are created too."""
    missing = _missing_labels(backend, issue.labels, create_labels)
    created = backend.create_issue(issue, create_labels=create_labels)
    return Written(created, missing)


def edit_issue(
    backend: IssueBackend, number: int, changes: IssueChanges, *, create_labels: bool
) -> Written:
    """Apply ``changes`` to issue ``number`` (other fields merged, labels added and removed
    keeping their stored spelling); with ``create_labels`` unknown added labels are created."""
    missing = _missing_labels(backend, changes.add_labels, create_labels)
    updated = backend.edit_issue(number, changes, create_labels=create_labels)
    return Written(updated, missing)


# -- close and reopen -------------------------------------------------------------------------


class StateChange:
    """What closing or reopening did: the issue as it now is, whether its state changed (no:
    it already was so) and whether a comment was added."""

    def __init__(self, issue: Issue, changed: bool, commented: bool) -> None:
        self.issue = issue
        self.changed = changed
        self.commented = commented


def set_closed(
    backend: IssueBackend,
    number: int,
    comment: str | None,
    *,
    closed: bool,
    reason: CloseReason | str | None = None,
    force: bool = False,
) -> StateChange:
    """Close (``closed``, with ``reason``: ``completed`` when not given) or reopen issue
    ``number``, adding ``comment`` first. Idempotent: an issue already in that state is left as
    it is (the comment is still added), unless a close names a reason it was not closed for:
    then the reason changes. ``force``: another agent's live lease is released first (recorded
    as forced, as ``issue release --force``) instead of refusing the close."""
    body = validate_comment(comment) if comment is not None else None
    wanted = CloseReason.parse(reason)
    if wanted is not None and not closed:
        raise ValidationError("a close reason is only for closing", hint="drop --reason")
    issue = backend.get_issue(number)
    if force and backend.supports(Capability.CLAIMS) and not issue.is_closed:
        _release_forced(backend, number)
        issue = backend.get_issue(number)
    elif body is not None and issue.is_closed != closed and backend.supports(Capability.CLAIMS):
        _refuse_fenced(backend, number)  # before the comment: a refused close writes nothing
    if body is not None:
        backend.add_comment(number, body)
    state = IssueState.CLOSED if closed else IssueState.OPEN
    same_reason = wanted is None or issue.close_reason is wanted
    if issue.is_closed == closed and same_reason:
        issue = backend.get_issue(number) if body else issue
        return StateChange(issue, changed=False, commented=body is not None)
    issue.state = state
    issue.close_reason = close_reason_for(state, wanted)
    return StateChange(backend.update_issue(issue), changed=True, commented=body is not None)


def _refuse_fenced(backend: IssueBackend, number: int) -> None:
    """Another agent's live lease fences a change of state (as the update itself would)."""
    from issue_core.core.errors import ClaimConflict

    held = backend.live_claim(number)
    if held is not None and held.holder != backend.acting_agent():
        raise ClaimConflict(
            f"issue #{number} is claimed by {held.holder} until {held.expires_at}: its state "
            "cannot change under the lease",
            hint=f"ask the holder, or take it over: issue close {number} --force",
            holder=held.holder,
            expires_at=held.expires_at,
        )


def _release_forced(backend: IssueBackend, number: int) -> None:
    """Release the issue's lease, whoever holds it; no lease at all is no obstacle."""
    from issue_core.core.errors import ClaimConflict

    try:
        backend.release(number, force=True)
    except ClaimConflict:
        pass  # not claimed (or it ran out): the close needs nothing released


# -- comments ------------------------------------------------------------------------------


def comments(backend: IssueBackend, number: int) -> list[Comment]:
    """Issue ``number``'s comments, oldest first."""
    return backend.list_comments(number)


def add_comment(backend: IssueBackend, number: int, body: str) -> Comment:
    """Add a comment (checked as the CLI checks it) to issue ``number``, as the acting agent."""
    return backend.add_comment(number, validate_comment(body))


def find_comment(backend: IssueBackend, number: int, comment_id: str) -> Comment:
    """Comment ``comment_id`` of issue ``number`` (``NotFound`` if it is another issue's)."""
    for comment in backend.list_comments(number):
        if comment.id == comment_id:
            return comment
    raise NotFound(
        f"comment {comment_id} not found on issue #{number}",
        hint=f"see the comment ids with: issue show {number} --comments",
    )


def last_comment_of_mine(backend: IssueBackend, number: int) -> Comment:
    """gh's --edit-last/--delete-last: the newest comment the acting user wrote on the issue."""
    me = backend.whoami().username.lower()
    mine = [c for c in backend.list_comments(number) if (c.author or "").lower() == me]
    if not mine:
        raise NotFound(
            f"you ({me}) have no comment on #{number}",
            hint=f"see the comments with: issue show {number} --comments",
        )
    return mine[-1]


# -- delete ------------------------------------------------------------------------------------


class Deletion:
    """What deleting did: every issue asked for (in the order given, each once), the ones
    deleted, and the error that stopped the run after some were (``failure``)."""

    def __init__(self, issues: list[Issue]) -> None:
        self.issues = issues
        self.deleted: list[Issue] = []
        self.failure: IssueCoreError | None = None

    @property
    def kept(self) -> list[Issue]:
        gone = {issue.number for issue in self.deleted}
        return [issue for issue in self.issues if issue.number not in gone]


def delete_issues(
    backend: IssueBackend, numbers: Iterable[int], confirm: Callable[[Issue], bool]
) -> Deletion:
    """Delete issues for good. Every number is looked up and every ``confirm`` answer taken
    before the first delete; an error before anything was deleted is raised as it is, one
    after is kept in ``failure`` beside what was deleted before it."""
    backend.require(Capability.DELETE_ISSUES, "deleting issues")
    run = Deletion([backend.get_issue(number) for number in dict.fromkeys(numbers)])
    chosen = [issue for issue in run.issues if confirm(issue)]
    for issue in chosen:
        try:
            backend.delete_issue(issue.number or 0)
        except IssueCoreError as exc:
            if not run.deleted:
                raise  # nothing was deleted: the error alone says it all
            run.failure = exc
            return run
        run.deleted.append(issue)
    return run
