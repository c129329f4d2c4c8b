"""A random corpus written to a local store, for the property tests that compare the store's
SQL with the Python meaning of a filter or a query."""

from __future__ import annotations

from typing import Any

from issue_core.backends.local import LocalBackend
from issue_core.core.models import Issue, Milestone


def build(
    backend: LocalBackend, corpus: list[dict[str, Any]], milestones: list[str]
) -> list[Issue]:
    """Create ``milestones`` and the ``corpus`` (dicts of Issue fields and ``comments``); the
    issues as stored, with their comments loaded."""
    for title in milestones:
        backend.create_milestone(Milestone(title=title))
    for item in corpus:
        created = backend.create_issue(
            Issue(
                title=item["title"],
                description=item["description"],
                state=item["state"],
                labels=item["labels"],
                assignees=item["assignees"],
                milestone=item["milestone"],
                priority=item.get("priority"),
            ),
            create_labels=True,
        )
        for body in item["comments"]:
            backend.add_comment(created.number, body)
    return [
        backend.get_issue_by_number(number, with_comments=True)
        for number in range(1, len(corpus) + 1)
    ]
