"""The plain ``IssueFilter`` a query implies: what a backend that cannot run the query applies
first (a forge maps it to its own list parameters), before ``Query.matches`` decides.

Only conditions every match must meet are taken: the top-level AND's positive states, single
labels, assignee, author, milestone and a lower bound on ``updated``. The result selects a
superset of the query's matches, ANDed with the caller's own filter, unlimited (the limit
applies after matching).
"""

from __future__ import annotations

from datetime import datetime

from issue_core.core.models import IssueFilter, IssueState
from issue_core.core.query import Query
from issue_core.core.query.nodes import And, LabelAny, MilestoneIs, Node, Person, StateIn, Within


def pushed_filter(flt: IssueFilter, query: Query) -> IssueFilter:
    top: list[Node] = []
    if isinstance(query.root, And):
        top = list(query.root.children)
    elif query.root is not None:
        top = [query.root]
    states = set(flt.states) if flt.states is not None else None
    labels = list(flt.labels)
    people = {"assignee": flt.assignee, "author": flt.author}
    milestone, since = flt.milestone, flt.updated_since
    for node in top:
        if isinstance(node, StateIn):
            narrowed = set(node.states) if states is None else states & set(node.states)
            states = narrowed or states  # none left: matching removes every issue anyway
        elif isinstance(node, LabelAny) and len(node.names) == 1:
            labels.append(node.names[0])
        elif isinstance(node, Person) and people[node.field] is None and not flt.no_assignee:
            people[node.field] = query.me if node.user == "@me" else node.user
        elif isinstance(node, MilestoneIs) and milestone is None and not flt.no_milestone:
            milestone = node.key
        elif isinstance(node, Within) and node.field == "updated":
            low = node.low
            if isinstance(low, datetime) and (since is None or low > since):
                since = low
    sort, direction = query.sort or (flt.sort, flt.direction)
    return IssueFilter(
        state=[state for state in IssueState if state in states] if states is not None else None,
        labels=list(dict.fromkeys(labels)),
        assignee=people["assignee"],
        no_assignee=flt.no_assignee,
        milestone=milestone,
        no_milestone=flt.no_milestone,
        author=people["author"],
        text=flt.text,
        updated_since=since,
        limit=None,
        sort=sort,
        direction=direction,
    )
