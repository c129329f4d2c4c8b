"""Query text -> tree (``nodes``), GitHub's issue-search syntax.

Terms are ``qualifier:value`` (the value may be quoted: ``label:"good first issue"``), bare
words and ``"quoted phrases"`` (full text); ``-`` before a term or a parenthesis negates it.
Terms side by side are ANDed; ``AND`` and ``OR`` (upper case, as on GitHub) join terms, ``AND``
binding tighter, and parentheses group. ``sort:`` orders the result and stands only at the top
level. Anything else is a ``QueryError`` naming the offset it is about.
"""

from __future__ import annotations

import re
from datetime import datetime

from issue_core.core.query import qualifiers
from issue_core.core.query.nodes import And, Node, Not, Or, QueryError, Text

MAX_DEPTH = 16  # parentheses nested deeper than this are refused, as GitHub limits nesting
MAX_TERMS = 100  # bounds the SQL a query compiles to
_QUALIFIER = re.compile(r"([A-Za-z][A-Za-z_]*):")
_WORD_END = re.compile(r'[\s()"]')

# token kinds
LPAREN, RPAREN, AND, OR, NOT, TERM, END = "(", ")", "AND", "OR", "-", "term", "end"


class Token:
    __slots__ = ("end", "kind", "name", "quoted", "start", "value", "value_start")

    def __init__(
        self,
        kind: str,
        start: int,
        end: int,
        value: str = "",
        name: str = "",
        value_start: int = 0,
        quoted: bool = False,
    ) -> None:
        self.kind = kind
        self.start = start
        self.end = end
        self.value = value
        self.name = name  # the qualifier, lower case; "" for text
        self.value_start = value_start
        self.quoted = quoted


def tokenize(query: str) -> list[Token]:
    tokens: list[Token] = []
    at, size = 0, len(query)
    while at < size:
        char = query[at]
        if char.isspace():
            at += 1
        elif char in "()":
            tokens.append(Token(LPAREN if char == "(" else RPAREN, at, at + 1))
            at += 1
        elif char == "-":
            following = query[at + 1 : at + 2]
            if not following or following.isspace() or following in "-)":
                raise QueryError(
                    "nothing to negate after '-'",
                    query,
                    at,
                    hint="put the term right after '-', as in -label:bug",
                )
            tokens.append(Token(NOT, at, at + 1))
            at += 1
        elif char == '"':
            value, after = _quoted(query, at)
            tokens.append(Token(TERM, at, after, value, value_start=at + 1, quoted=True))
            at = after
        else:
            tokens.append(_bare(query, at))
            at = tokens[-1].end
    tokens.append(Token(END, size, size))
    return tokens


def _quoted(query: str, at: int) -> tuple[str, int]:
    close = query.find('"', at + 1)
    if close < 0:
        raise QueryError("unclosed quote", query, at, hint='end the phrase with "')
    return query[at + 1 : close], close + 1


def _bare(query: str, at: int) -> Token:
    qualifier = _QUALIFIER.match(query, at)
    if qualifier is None:
        stop = _WORD_END.search(query, at)
        end = stop.start() if stop else len(query)
        word = query[at:end]
        kind = word if word in (AND, OR) else TERM
        return Token(kind, at, end, word, value_start=at)
    name = qualifier.group(1).lower()
    if name not in qualifiers.QUALIFIERS:
        raise QueryError(
            f"unknown qualifier {qualifier.group(1)!r}",
            query,
            at,
            hint=f"known: {', '.join(qualifiers.QUALIFIERS)}; "
            f'quote it ("{qualifier.group(0)}...") to search for the text',
        )
    start = qualifier.end()
    if query[start : start + 1] == '"':
        value, end = _quoted(query, start)
        value_start = start + 1
    else:
        stop = _WORD_END.search(query, start)
        end = stop.start() if stop else len(query)
        value, value_start = query[start:end], start
    if not value.strip():
        raise QueryError(
            f"{name}: needs a value",
            query,
            start,
            hint=f"for example {_EXAMPLES.get(name, name + ':VALUE')}",
        )
    return Token(TERM, at, end, value, name=name, value_start=value_start)


_EXAMPLES = {
    "is": "is:open",
    "state": "state:closed",
    "label": "label:bug",
    "no": "no:assignee",
    "has": "has:label",
    "sort": "sort:updated-desc",
    "priority": "priority:<=1",
    "updated": "updated:>7d",
}


class Parsed:
    """The tree (``None``: no condition) and the ``sort:`` order, if one was given."""

    __slots__ = ("root", "sort")

    def __init__(self, root: Node | None, sort: tuple[str, str] | None) -> None:
        self.root = root
        self.sort = sort


def parse(query: str, now: datetime) -> Parsed:
    if not query.strip():
        raise QueryError("empty query", query, 0, hint="for example: is:open label:bug")
    return _Parser(query, tokenize(query), now).run()


class _Parser:
    def __init__(self, query: str, tokens: list[Token], now: datetime) -> None:
        self.query = query
        self.tokens = tokens
        self.at = 0
        self.now = now
        self.depth = 0
        self.terms = 0
        self.sort: tuple[str, str] | None = None
        self.sort_at = 0

    def error(self, message: str, position: int, hint: str | None = None) -> QueryError:
        return QueryError(message, self.query, position, hint=hint)

    @property
    def token(self) -> Token:
        return self.tokens[self.at]

    def run(self) -> Parsed:
        root = self.either()
        token = self.token
        if token.kind == RPAREN:
            raise self.error("unbalanced ')'", token.start, hint="remove it or add a '(' first")
        return Parsed(root, self.sort)

    def either(self) -> Node | None:
        """``a OR b OR c``: an OR needs a condition on both sides."""
        first = self.token
        parts = [self.both()]
        while self.token.kind == OR:
            operator = self.token
            self.at += 1
            parts.append(self.both())
            if parts[-2] is None:
                raise self.error("nothing before OR", operator.start, hint="write a OR b")
            if parts[-1] is None:
                raise self.error("nothing after OR", self.token.start, hint="write a OR b")
        if len(parts) == 1:
            return parts[0]
        if self.depth == 0 and self.sort is not None:
            raise self.error(
                "sort: stands only at the top level",
                self.sort_at,
                hint="not inside parentheses, OR or negation",
            )
        nodes = [part for part in parts if part is not None]
        return Or(nodes, first.start, nodes[-1].end)

    def both(self) -> Node | None:
        """Terms side by side or joined by AND, up to an OR, a ')' or the end."""
        nodes: list[Node] = []
        while True:
            token = self.token
            if token.kind == AND:
                if not nodes:
                    raise self.error("nothing before AND", token.start, hint="write a AND b")
                self.at += 1
                if self.token.kind in (OR, AND, RPAREN, END):
                    raise self.error("nothing after AND", self.token.start, hint="write a AND b")
                continue
            if token.kind in (OR, RPAREN, END):
                break
            node = self.unary(top=self.depth == 0)
            if node is not None:
                nodes.append(node)
        if not nodes:
            return None
        if len(nodes) == 1:
            return nodes[0]
        return And(nodes, nodes[0].start, nodes[-1].end)

    def unary(self, *, top: bool) -> Node | None:
        token = self.token
        if token.kind == NOT:
            self.at += 1
            inner = self.token
            if inner.kind == TERM and inner.name == "sort":
                raise self.error("sort: cannot be negated", token.start)
            child = self.unary(top=False)
            assert child is not None  # tokenize() refused a '-' with nothing after it
            return child.child if isinstance(child, Not) else Not(child, token.start, child.end)
        if token.kind == LPAREN:
            return self.group(token)
        self.at += 1
        return self.term(token, top=top)

    def group(self, opening: Token) -> Node:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise self.error(f"parentheses nested deeper than {MAX_DEPTH}", opening.start)
        self.at += 1
        inner = self.either()
        closing = self.token
        if closing.kind != RPAREN:
            raise self.error("unbalanced '('", opening.start, hint="close it with ')'")
        if inner is None:
            raise self.error("empty parentheses", opening.start)
        self.at += 1
        self.depth -= 1
        return inner

    def term(self, token: Token, *, top: bool) -> Node | None:
        self.terms += 1
        if self.terms > MAX_TERMS:
            raise self.error(f"more than {MAX_TERMS} terms", token.start)
        value = qualifiers.Value(token.value, token.value_start, self.query)
        if not token.name:
            return Text(token.value, token.start, token.end)
        if token.name == "sort":
            if not top:
                raise self.error(
                    "sort: stands only at the top level",
                    token.start,
                    hint="not inside parentheses, OR or negation",
                )
            if self.sort is not None:
                raise self.error("sort: given twice", token.start)
            self.sort = qualifiers.sort_order(value)
            self.sort_at = token.start
            return None
        node = qualifiers.condition(token.name, value, token.start, token.end, self.now)
        if token.name == "has":
            return Not(node, token.start, token.end)
        return node
