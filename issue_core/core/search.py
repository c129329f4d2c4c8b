"""What ``--search TEXT`` means, in one place: the words of the query, and whether a text holds
them, with the rules of the local store's FTS5 index (``unicode61 remove_diacritics 2``).

A query is split into words (``\\w+``); every word must occur (AND). A word the index would
split (``foo_bar``, ``v1.2``) is a phrase: its parts must occur one after the other in the same
text. The last word also matches as a prefix, so ``logi`` finds "login". Matching ignores case
and diacritics, as the index does. ``IssueFilter.matches`` uses this for backends that filter
in Python; the local store compiles the same words into an FTS5 query.

The query language's words and phrases (``phrase_matches``) follow the same folding, as whole
words: all the words of a phrase in a row in one text, none of them a prefix.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

QUERY_WORD = re.compile(r"\w+", re.UNICODE)
# unicode61 keeps letters and digits together and treats everything else (``_`` too) as a break.
_TOKEN = re.compile(r"[^\W_]+", re.UNICODE)


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def tokens(text: str) -> list[str]:
    """The index's tokens of ``text``: letters and digits, case and diacritics folded."""
    return _TOKEN.findall(_fold(text))


def query_words(text: str) -> list[str]:
    """The words of a search query, as the user typed them (each one quoted in FTS5)."""
    return QUERY_WORD.findall(text)


def _holds(haystack: list[str], phrase: list[str], *, prefix: bool) -> bool:
    width = len(phrase)
    for start in range(len(haystack) - width + 1):
        window = haystack[start : start + width]
        if window[:-1] != phrase[:-1]:
            continue
        last = window[-1]
        if last == phrase[-1] or (prefix and last.startswith(phrase[-1])):
            return True
    return False


def phrase_matches(phrase: str, texts: Iterable[str]) -> bool:
    """Whether one of ``texts`` holds the words of ``phrase`` one after the other, each whole
    (a query language's word or "quoted phrase"). No words: nothing matches."""
    wanted = tokens(phrase)
    return bool(wanted) and any(_holds(tokens(text), wanted, prefix=False) for text in texts)


def text_matches(query: str, texts: Iterable[str]) -> bool:
    """Whether ``texts`` (title, description, comments: each a column of its own) hold every
    word of ``query``. A query with no words matches nothing, as on the local store."""
    words = query_words(query)
    if not words:
        return False
    columns = [tokens(text) for text in texts]
    for index, word in enumerate(words):
        phrase = tokens(word)
        if not phrase:
            return False  # only separators ("_"): FTS5 matches nothing for such a phrase
        prefix = index == len(words) - 1
        if not any(_holds(column, phrase, prefix=prefix) for column in columns):
            return False
    return True
