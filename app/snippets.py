"""FTS5's `snippet()` of a short entry, made in Python: every short entry of a search's page gets its
snippet here, and only the long ones (articles) from FTS5.

FTS5 gives a page's snippets from one statement that scans the query's matches between the page's lowest
and highest entry (`Dialect.snippets_sql`), ~50 ns a match: a scan that grows with the corpus, ~60 µs a
page on the benchmark's 1M corpus against ~3 on the 10k, and most of a search for a common word, whose
page of 50 is spread over ~15,000 matches (0.8 ms of 1.1). For a short entry — each column at most
`dialects.SNIPPET_TOKENS` (24) tokens long, as a quote's label and text are — a snippet is simple enough
to make here, byte for byte as FTS5 makes it (`snippet(search_fts, -1, '<mark>', '</mark>', '…', 24)`,
SQLite's `fts5SnippetFunction`), and this module runs compiled (`setup.py`): ~1.8 µs a snippet (2.9
before the thirty-fourth round, 2.1 before the thirty-fifth, which scores a column with one occurrence
without a set and marks it without a list), its texts kept in memory by the search index
(`ShortTexts`), and no scan (BENCH.md):

- a column that short fits the window whole, so the snippet is the whole column, with no ellipsis;
- of the two columns, the one whose window scores more: 1000 for each of the query's phrases it holds,
  1 for each further occurrence; the label on a tie. A phrase is one of the words the page's entries
  hold that starts with one of the query's terms (`SearchIndex._snippet_query`), so a column holding
  `ukraine` and `ukrainians` for the term `ukrain` holds two;
- each token that is an occurrence is marked on its own (`<mark>ukraine</mark> <mark>war</mark>`).

That holds for text the `unicode61` tokenizer splits as ASCII: tokens are the runs of ASCII letters and
digits, folded by lowercasing. `snippet` answers None for a column with any other character but the
common typographic punctuation (`SEPARATORS`, which the tokenizer also takes for separators): FTS5 makes
those. `tests/test_snippets.py` compares the two on generated texts and on the pages of a generated
corpus's and the article's searches, with the SQLite in use (3.40 here): one whose `snippet()` marked
differently would fail them.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from app.dialects import MARK_END, MARK_START

SEPARATORS = ("“", "”", "‘", "’", "…", "—", "–", "«", "»")
_TOKEN_CHARACTERS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789")
_NOT_PLAIN = re.compile("[^\x00-\x7f" + "".join(SEPARATORS) + "]")


def plain(text: str) -> bool:
    """Whether `unicode61` reads the text as this module does: ASCII, but for `SEPARATORS`."""
    return text.isascii() or _NOT_PLAIN.search(text) is None


def snippet(terms: Sequence[str], label: str, body: str) -> str | None:
    """The snippet of an entry whose label and body are each at most `SNIPPET_TOKENS` tokens long, for the
    query's terms (lowercase letters and digits, each a prefix); None where either text is not `plain`."""
    if not (plain(label) and plain(body)):
        return None
    low_label, low_body = label.lower(), body.lower()
    in_label, in_body = _occurrences(terms, low_label), _occurrences(terms, low_body)
    if in_body and (not in_label or _score(in_body, low_body) > _score(in_label, low_label)):
        return _marked(body, in_body)
    return _marked(label, in_label) if in_label else label  # the label on a tie, and where neither holds one


def _score(found: list[tuple[int, int, int]], low: str) -> int:
    """A column's score: 1000 for each of the query's phrases it holds, 1 for each further occurrence."""
    if len(found) == 1:
        return 1000
    phrases = {(term, low[start:end]) for start, end, term in found}
    return 999 * len(phrases) + len(found)


def _marked(text: str, found: list[tuple[int, int, int]]) -> str:
    """The text with each token that is an occurrence marked, once."""
    if len(found) == 1:
        start, end, _ = found[0]
        return "".join((text[:start], MARK_START, text[start:end], MARK_END, text[end:]))
    parts: list[str] = []
    copied = 0
    for start, end in sorted({(start, end) for start, end, _ in found}):
        parts += (text[copied:start], MARK_START, text[start:end], MARK_END)
        copied = end
    parts.append(text[copied:])
    return "".join(parts)


def _occurrences(terms: Sequence[str], low: str) -> list[tuple[int, int, int]]:
    """(start, end, term) of each token of `low` that starts with a term."""
    found = []
    size = len(low)
    for number, term in enumerate(terms):
        at = low.find(term)
        while at >= 0:
            end = at + len(term)
            if at == 0 or low[at - 1] not in _TOKEN_CHARACTERS:
                while end < size and low[end] in _TOKEN_CHARACTERS:
                    end += 1
                found.append((at, end, number))
            # From the end: a term is letters and digits, so no token starts before it.
            at = low.find(term, end)
    return found
