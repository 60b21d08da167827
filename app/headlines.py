"""PostgreSQL's `ts_headline` of a search hit, made in Python: on PostgreSQL a search's page reads its
entries' texts and makes their headlines here, but those of texts this module declines.

A page's statement spent ~1.45 ms of its ~2.2 on the benchmark's 1M corpus making its 50 headlines, in the
database, whose CPU every other request shares: the ~4 articles' alone ~0.9 ms (~0.22 ms each, parsing
~2,800 characters), and a page of 15–31 articles 4.5–8 ms (the slowest of the benchmark's 498 pages,
which its p99 meets). PostgreSQL parses each text with its default parser, looks every token up in the
configuration's dictionaries, then picks the window. For a text of ASCII letters and digits and common
punctuation, each step is simple enough to make here, byte for byte as PostgreSQL 15 makes it
(`dialects._HEADLINE`; `hlparsetext` in `ts_parse.c`, `mark_hl_fragments` in `wparser_def.c`), compiled
(`setup.py`): ~5.5 µs a quote, ~66 µs an article, ~0.5 ms a page, against ~1.45 ms of PostgreSQL's time
(BENCH.md, the forty-first round):

- the default parser splits such a text into runs of letters and digits (`asciiword`, `numword`, `uint`)
  and the runs of everything else between them (`blank`); `simple` lowercases a run into its lexeme;
- a run is one of the query's words where its lexeme starts with one of the query's terms (each term is a
  prefix, `term:*`, and all of them must match);
- the headline is one fragment: the shortest span that holds every term (a cover, each found from the
  next term occurrence on), cut to at most `MaxWords` words with a term at each end, the one holding the
  most terms (the fewest words on a tie, the first on a tie again), stretched by half the words left on
  its left and as far as the words left allow on its right, each end then pulled back to a word that is
  a term, or longer than `ShortWord` letters and not a number; every term in it is marked;
- where no span holds every term, the text up to its `MinWords`-th word, the terms in it marked.

`headline` answers None for any other text, whose headline PostgreSQL then makes (and, for the dataset,
from then on: `PostgresSearchIndex.declined`): a text with a character but ASCII letters, digits and
`_SEPARATORS` (another script goes through `unaccent`, a hyphenated word is three more tokens, `/`, `@`,
`&`, `<` or `_` may start a path, an address, a tag or a word), a dot before a letter or digit (a host, a
file, a decimal number) or a number in scientific notation, and a word two of the query's terms match
(PostgreSQL repeats such a word in its list, once per term).
`tests/test_headlines.py` compares the two on generated texts and on every page of the article's and a
generated corpus's searches, against the PostgreSQL in use (15 here). The query's words are each taken
once (`PostgresSearchIndex._snippet_query`).
"""

from __future__ import annotations

from collections.abc import Sequence

from app.dialects import HEADLINE_MAX_WORDS as MAX_WORDS
from app.dialects import HEADLINE_MIN_WORDS as MIN_WORDS
from app.dialects import MARK_END, MARK_START

SHORT_WORD = 3  # PostgreSQL's default ShortWord: a word this long or shorter ends a headline only if a term
# `prsd_headline`'s longest cover: max(MaxWords * 10, 100) tokens (times MaxFragments, 1) from its first
# term to its last. A blank lies between every two words, so that is half as many words.
MAX_COVER_WORDS = 10 * MAX_WORDS // 2
# The separators the default parser reads as a blank wherever they are (but a dot before a letter or a
# digit: a host, a file or a number)
_SEPARATORS = frozenset(" \n.,;:!?\"'()“”‘’…—–«»")


def _words(text: str) -> list[int] | None:
    """The text's words (runs of ASCII letters and digits) as PostgreSQL's default parser reads them, each
    as its first character and the one after its last, end to end; None unless every other character is
    one of `_SEPARATORS`. One pass of compiled comparisons: a regular expression costs twice as much."""
    bounds: list[int] = []
    start = -1  # the current word's first character, or -1 between words
    size = len(text)
    for i in range(size):
        code = ord(text[i])
        if 97 <= code <= 122 or 65 <= code <= 90:
            if start < 0:
                start = i
            elif (code == 101 or code == 69) and _digit(text, i - 1) and _digit(text, i + 1):
                return None  # a number in scientific notation (`sfloat`)
        elif 48 <= code <= 57:
            if start < 0:
                start = i
        else:
            if code < 128:
                if not (
                    code == 32
                    or code == 10
                    or code == 44
                    or code == 58
                    or code == 59
                    or code == 33
                    or code == 63
                    or code == 34
                    or code == 39
                    or code == 40
                    or code == 41
                    or (code == 46 and not (i + 1 < size and text[i + 1].isalnum()))
                ):
                    return None
            elif text[i] not in _SEPARATORS:
                return None
            if start >= 0:
                bounds += (start, i)
                start = -1
    if start >= 0:
        bounds += (start, size)
    return bounds


def _digit(text: str, i: int) -> bool:
    return 0 <= i < len(text) and "0" <= text[i] <= "9"


def headline(terms: Sequence[str], label: str, body: str) -> str | None:
    """`ts_headline` of the entry for the query `term:* & …` (lowercase letters and digits); None where
    PostgreSQL must make it (see the module's docstring)."""
    text = f"{label}\n{body}"
    bounds = _words(text)
    if bounds is None:
        return None
    for term in terms:
        if _words(term) is None:  # a term in scientific notation: PostgreSQL reads it otherwise
            return None
    count = len(bounds) // 2  # word k is text[bounds[2k]:bounds[2k + 1]]
    items = [-1] * count  # per word: the term it matches, or -1
    positions: list[int] = []  # the words that match a term, in order
    low = text.lower()
    for number, term in enumerate(terms):
        at, k = low.find(term), 0
        while at >= 0:
            while k < count and bounds[2 * k] < at:
                k += 1
            if k < count and bounds[2 * k] == at:  # the term starts a word
                if items[k] >= 0:
                    return None  # PostgreSQL repeats such a word, once per term it matches
                items[k] = number
                positions.append(k)
            at = low.find(term, at + 1)
    positions.sort()

    # Every cover, cut into fragments of at most MAX_WORDS words with a term at each end (`hlCover`,
    # `get_next_fragment`); the one with the most terms, then the fewest words, then the first
    best_start = best_end = best_terms = -1
    all_terms = (1 << len(terms)) - 1
    for at, first in enumerate(positions):
        last = _cover_end(items, positions, at, all_terms)
        if last < 0:
            continue
        start, next_at = first, at
        while start <= last:
            end = min(last, start + MAX_WORDS - 1)
            if end < last:  # cut: back to a term
                while items[end] < 0:
                    end -= 1
            held = 0
            while next_at < len(positions) and positions[next_at] <= end:
                held, next_at = held + 1, next_at + 1
            if held > best_terms or (held == best_terms and end - start < best_end - best_start):
                best_start, best_end, best_terms = start, end, held
            start = (
                positions[next_at] if next_at < len(positions) and positions[next_at] <= last else last + 1
            )

    if best_terms < 0:  # no cover: the text up to its MIN_WORDS-th word
        stop = min(count, MIN_WORDS)
        return _marked(
            text, bounds, items, 0, stop, 0, len(text) if count < MIN_WORDS else bounds[2 * stop - 1]
        )
    start, end = best_start, best_end
    words = end - start + 1
    if words < MAX_WORDS:
        # Stretched by half the words left on the left and what remains on the right, each end then
        # pulled back to a word that may end a headline
        first = max(0, start - (MAX_WORDS - words) // 2)
        while first < start and _bad_end(text, bounds, items, first):
            first += 1
        last = min(count - 1, end + MAX_WORDS - words - (start - first))
        while last > end and _bad_end(text, bounds, items, last):
            last -= 1
        start, end = first, last
    return _marked(text, bounds, items, start, end + 1, bounds[2 * start], bounds[2 * end + 1])


def _bad_end(text: str, bounds: list[int], items: list[int], k: int) -> bool:
    """`BADENDPOINT`: a number (`uint`) or a word of at most `SHORT_WORD` letters, unless it is a term."""
    if items[k] >= 0:
        return False
    start, end = bounds[2 * k], bounds[2 * k + 1]
    return end - start <= SHORT_WORD or text[start:end].isdigit()


def _cover_end(items: list[int], positions: list[int], at: int, all_terms: int) -> int:
    """`hlCover` from the term `positions[at]`: the last word of the shortest span from it that holds every
    term (at most `MAX_COVER_WORDS` words on), or -1."""
    seen = 0
    for pmax in positions[at:]:
        if pmax - positions[at] >= MAX_COVER_WORDS:
            break
        seen |= 1 << items[pmax]
        if seen == all_terms:
            return pmax
    return -1


def _marked(
    text: str, bounds: list[int], items: list[int], first: int, stop: int, begin: int, end: int
) -> str:
    """`text[begin:end]`, each of the words `first` to `stop - 1` that matches a term marked."""
    out: list[str] = []
    copied = begin
    for k in range(first, stop):
        if items[k] >= 0:
            start, finish = bounds[2 * k], bounds[2 * k + 1]
            out += (text[copied:start], MARK_START, text[start:finish], MARK_END)
            copied = finish
    out.append(text[copied:end])
    return "".join(out)
