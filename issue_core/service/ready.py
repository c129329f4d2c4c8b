"""The ready queue (``issue ready``): open issues nobody holds whose blockers are all closed,
most important (priority 0 first, unset last) then oldest first.

"Nobody holds" is the ``open`` state: a claimed issue is ``in_progress``. The backend answers
(``IssueBackend.list_ready``: one query on the local store, links read per issue elsewhere).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from issue_core.core.models import IssueFilter, IssueState

if TYPE_CHECKING:
    from issue_core.core.interfaces import IssueBackend
    from issue_core.core.models import Issue


def ready_issues(backend: IssueBackend, issue_filter: IssueFilter) -> list[Issue]:
    if issue_filter.text:
        from issue_core.core.interfaces import Capability

        backend.require(Capability.FULL_TEXT_SEARCH, "full-text search (--search)")
    only_open = issue_filter.without_query()
    only_open.states = (IssueState.OPEN,)
    return backend.list_ready(only_open)
