"""Full-text ranking in memory: FTS5's own bm25, computed with numpy over all of a query's matches, on
SQLite and (`PostgresSearchIndex`, below) on PostgreSQL.

FTS5 finds a query's matches quickly but scores them one by one: `bm25()` decodes each match's positions
and looks its length up in the index, ~1.2 µs a match, so a search's cost grew with its matches (3 ms on
average on the benchmark's 1M corpus, 20–40 ms for a short prefix that matches 20,000 entries). All bm25
needs of a match is how often the query's word occurs in it (a label's words weigh 10, a body's 1) and its
length in tokens. So:

- the entries' lengths are read once per dataset, at its first search (FTS5's `docsize` table: ~0.3 s for
  the 1M corpus), with the index's row count and average length (its `averages` record);
- a query word's postings — each entry holding a word that starts with it, with the weighted count, and
  which words they are — are read the first time the word is searched, from `search_word`, which each
  load writes from the full-text index itself (`search_words`; until migration 0006 they were
  decoded from it with `fts5vocab` at that first search: 0.4 ms on average for the benchmark's words on
  the 1M corpus, 0.06 ms now), and kept, the least recently searched dropped first, within
  `SEARCH_INDEX_MB`; a new file (a new load) drops them all;
- a search intersects its words' postings, keeps the kinds asked for, and scores every match at once
  with FTS5's formula in FTS5's order of operations: the same scores to the last bit, hence the same order
  and totals (`tests/test_search_index.py` compares the two on every word of the article and on a
  generated corpus);
- a search has the same order of matches for every page: it is scored and sorted once, at its first
  search, and kept with its scores beside its first word's postings (12 bytes a match, within the same
  budget), so the same words searched again read their page (of the kinds asked for, picked out of that
  order) and score nothing. For `war`, `people` and the benchmark's other common words (15,000 matches
  each on its 1M corpus) that took the ranking from 172 µs to 14 (asking for quotes only, 174 to 70); a
  name searched again no longer intersects its words' postings, and since the thirty-eighth round no
  search asked again looks its page up in its words' postings to score it (the benchmark's questions,
  ranked again: 37.5–43.6 µs → 22.4–25.0 on the 1M corpus, 22.7–23.5 → 14.0–14.1 on the 10k).

A long entry's snippet (an article's) still comes from FTS5's `snippet()`, asked for with the words the
page's entries hold (`ukrain` becomes `"ukraine" OR "ukrainians"`): FTS5 merges the lists of every word a
prefix stands for, over the whole index, before its first row, where whole words are read only around
the page's entries. Its statement reads the file attached a second time, with a page cache of its own
(`SNIPPET_CACHE_MB`, `Dialect.snippets_schema`), so its pages and the lists' do not evict each other.
One thing can differ from asking with the prefix: `snippet()` picks its window by how many of the query's
phrases it holds, and the words of one prefix are one phrase there and several here (7 snippets of the
25,041 of 2,098 searches on the benchmark's 1M corpus start elsewhere; the words marked are the same).
FTS5 makes them in one scan of the query's matches between those entries' lowest and highest. A short
entry (each column at most `SNIPPET_TOKENS` tokens: a quote, a person, an event) gets the same bytes from
`app.snippets` (`Ranking.short`, `queries.page_entries`): compiled, that costs less than FTS5's snippet
and spares its scan, whose length grows with the corpus. Their texts are kept too (`ShortTexts`), read
with the lengths, where they take at most half of `SEARCH_INDEX_MB`: a row read from a file larger than
SQLite's page cache costs twice what it does from a small one.

A query with a word that is not plain lowercase letters and digits once folded (another script, `_`) is
left to FTS5 whole: its tokenizer alone decides what such a word is.

PostgreSQL's `ts_rank_cd` scored every match in the database, reading each one's `tsvector` from the heap
(~2.5 ms a search on the benchmark's 1M corpus, 55 ms for a short prefix; a p99 of ~200 ms at 16
connections). There the same bm25 is computed from two tables each load writes out of the `document`
column (migration 0005): each word's entries with its weighted occurrences (`search_word`, in the same
form as SQLite's), and each entry's length in words. So a word matches what `document @@` matches, and
only the page's rows are read, their headlines made by `app.headlines` (`PostgresSearchIndex`). Its
words, once kept, are used before a statement has said which dataset the request reads
(`Database.statements`): `stale` checks afterwards, and such a search is answered again. A word that is
not plain is left to `ts_rank_cd`.
"""

from __future__ import annotations

import math
import re
import sqlite3
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from app.dialects import COLUMN_WEIGHTS, KIND_BOOST, SNIPPET_TOKENS
from app.search_kinds import SEARCH_KIND_CODES, SEARCH_KIND_MODULUS

if TYPE_CHECKING:
    from app.database import DatasetInfo, Snapshot

K1, B = 1.2, 0.75  # FTS5's bm25 parameters (fts5_aux.c)
_PLAIN = re.compile(r"[a-z0-9]+")
# `ShortTexts`: what joins a record's fields, the unit separator (a text holding it is not kept: `SearchIndex._texts`)
TEXT_SEPARATOR = "\x1f"
_BOOSTS = np.ones(SEARCH_KIND_MODULUS)
for _kind, _code in SEARCH_KIND_CODES.items():
    _BOOSTS[_code] = KIND_BOOST[_kind]


def varints(blob: bytes) -> list[int]:
    """SQLite's variable-length integers, as FTS5 stores its sizes: big-endian, 7 bits a byte, the
    high bit set on every byte but the last, a ninth byte taken whole."""
    values, value, length = [], 0, 0
    for byte in blob:
        length += 1
        if length == 9:
            values.append((value << 8) | byte)
            value = length = 0
        elif byte & 0x80:
            value = (value << 7) | (byte & 0x7F)
        else:
            values.append((value << 7) | byte)
            value = length = 0
    return values


@dataclass
class Postings:
    """What one query word (a prefix) matches."""

    entries: np.ndarray  # int32, ascending: the entries holding a word that starts with the prefix
    counts: np.ndarray  # float64: in each, its words' weighted number of occurrences (bm25's frequency)
    words: list[str]  # the index's words that start with the prefix
    by_entry: np.ndarray  # int32: the entry of each occurrence, ascending
    word_of: np.ndarray  # int32: the word of each occurrence (an index into `words`)
    # The matches of each search that starts with this word (it alone, or with the words after it), best
    # first, once searched (`SearchIndex._order`): their entries (int32) and scores (float64)
    orders: dict[tuple[str, ...], tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)
    orders_bytes: int = 0  # what they take (`_order_bytes`)

    @property
    def nbytes(self) -> int:
        arrays = self.entries.nbytes + self.counts.nbytes + self.by_entry.nbytes + self.word_of.nbytes
        return arrays + self.orders_bytes

    def words_in(self, entries: np.ndarray) -> list[str]:
        """The prefix's words that occur in these entries (ascending ids)."""
        if len(self.words) == 1:
            return self.words
        low = np.searchsorted(self.by_entry, entries, "left")
        high = np.searchsorted(self.by_entry, entries, "right")
        sizes = high - low
        runs = np.repeat(low - np.cumsum(sizes) + sizes, sizes) + np.arange(sizes.sum())
        return [self.words[i] for i in np.unique(self.word_of[runs])]


@dataclass(frozen=True)
class Ranking:
    hits: list[tuple[int, float]]  # the page: (entry id, score), best first, ties by id
    total: int  # all matches of the kinds asked for
    snippet_query: str  # the query for the page's snippets (FTS5's `snippet()`, PostgreSQL's `ts_headline`)
    dataset: Any  # the `DatasetInfo` of the lengths and postings it was ranked from
    # The page's entries whose snippets are made in Python: SQLite's short ones (`app.snippets`),
    # PostgreSQL's that `app.headlines` has not declined (`PostgresSearchIndex.declined`)
    short: list[int] = field(default_factory=list)
    short_texts: list[bytearray] | None = None  # their records (`ShortTexts`), where the index keeps them


@dataclass
class ShortTexts:
    """The short entries' texts, kept in memory for their snippets (`app.snippets`): read from a file
    larger than SQLite's page cache, a short entry's row cost ~2 µs on the benchmark's 1M corpus against
    ~1.1 on the 10k one, and a page holds 32 of them on average. Each entry's entity id, label and body
    are one UTF-8 record, the three joined by `TEXT_SEPARATOR`, and the records lie end to end in one buffer:
    34 MB for the 1M corpus's 190,000 short entries."""

    ids: np.ndarray  # int32, ascending: the short entries
    starts: np.ndarray  # int64: where each one's record starts in `data`, then where the last one ends
    data: bytearray

    @property
    def nbytes(self) -> int:
        return len(self.data) + self.ids.nbytes + self.starts.nbytes

    def records(self, ids: np.ndarray) -> list[bytearray]:
        """These short entries' records (ascending ids)."""
        at, data = self.ids.searchsorted(ids), self.data
        starts, ends = self.starts[at].tolist(), self.starts[at + 1].tolist()
        return [data[start:end] for start, end in zip(starts, ends, strict=True)]


@dataclass
class _Kept:
    """What was read of one dataset: bm25's lengths and the searched words' postings."""

    dataset: Any  # its `DatasetInfo`: one per opened file on SQLite, one per version on PostgreSQL
    rows: int
    norms: np.ndarray  # per entry id: bm25's length normalisation, k1 * (1 - b + b * D / avgdl)
    # Per entry id, whether its snippet is made in Python: SQLite's, each column at most `SNIPPET_TOKENS`
    # tokens long; PostgreSQL's, all until `app.headlines` declines one (`PostgresSearchIndex.declined`)
    short: np.ndarray | None
    texts: ShortTexts | None = None  # SQLite: the short entries' texts, where they fit (`SearchIndex._texts`)
    postings: OrderedDict[str, Postings] = field(default_factory=OrderedDict)  # least recently searched first
    bytes: int = 0


class SearchIndex:
    """The entries' lengths and the searched words' postings of the dataset being served, bounded.

    A request ranks with the `_Kept` of its own dataset from start to end, and what it reads goes there:
    on PostgreSQL reads let other requests run meanwhile, and one of them may read another dataset."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self._kept: _Kept | None = None

    @property
    def kept_bytes(self) -> int:
        """The memory the postings and texts kept take (the lengths, one float per entry id, come on top)."""
        return self._kept.bytes if self._kept else 0

    @staticmethod
    def applies(terms: Sequence[str]) -> bool:
        return all(_PLAIN.fullmatch(term) for term in terms)

    async def rank(
        self, snapshot: Snapshot, terms: Sequence[str], codes: Sequence[int], limit: int, offset: int
    ) -> Ranking:
        """The page of hits. Where the snapshot does not yet know its dataset (PostgreSQL's statements,
        before the first) and all it needs is kept, it ranks before asking: `stale` then checks, once the
        page is read, that what was kept is of the dataset read."""
        info, kept = snapshot.known_info, self._kept
        if info is None and (kept is None or not all(term in kept.postings for term in terms)):
            info = await snapshot.dataset()
        if kept is None or (info is not None and info is not kept.dataset):
            kept = await self._read_lengths(snapshot, info or await snapshot.dataset())
        postings = [await self._postings_of(snapshot, kept, term) for term in terms]
        order, page = self._order(kept, terms, postings), slice(offset, offset + limit)
        if order is not None:  # the search's matches in order, of the kinds asked for
            entries, scores = order
            if codes:
                wanted = np.isin(entries % SEARCH_KIND_MODULUS, codes)
                entries, scores = entries[wanted], scores[wanted]
            total = len(entries)
        else:
            entries, positions = _matches(postings)
            if codes:
                wanted = np.isin(entries % SEARCH_KIND_MODULUS, codes)
                entries, positions = entries[wanted], {i: at[wanted] for i, at in positions.items()}
            scores, total = _scores(kept, postings, positions, entries), len(entries)
            best = _best(entries, scores, offset + limit)  # the pages up to this one's end, in order
            entries, scores = entries[best], scores[best]
        entries, scores = entries[page], scores[page]
        ids = np.sort(entries)
        query = self._snippet_query(snapshot, terms, postings, ids)
        hits = list(zip(entries.tolist(), scores.tolist(), strict=True))
        short = ids[:0] if kept.short is None else ids[kept.short[ids]]
        texts = kept.texts.records(short) if kept.texts is not None and len(short) else None
        return Ranking(hits, total, query, kept.dataset, short.tolist(), texts)

    def declined(self, ranking: Ranking, entries: Sequence[int]) -> None:
        """Entries of the ranking's page whose snippets Python did not make. SQLite: nothing to keep (a
        short entry's texts are checked as they are read)."""

    async def stale(self, snapshot: Snapshot, ranking: Ranking) -> bool:
        """Whether the ranking used what was kept from another dataset than the one the request read
        (possible only where it ranked before asking, and a load came in between); if so that is
        dropped, and the request must be answered again."""
        if await snapshot.dataset() is ranking.dataset:
            return False
        if self._kept is not None and self._kept.dataset is ranking.dataset:
            self._kept = None
        return True

    def _snippet_query(
        self, snapshot: Snapshot, terms: Sequence[str], postings: list[Postings], entries: np.ndarray
    ) -> str:
        """FTS5's query for the page's snippets: the words the page's entries hold."""
        return " AND ".join(
            "(" + " OR ".join(f'"{word}"' for word in words.words_in(entries)) + ")" for words in postings
        )

    async def _read_lengths(self, snapshot: Snapshot, info: DatasetInfo) -> _Kept:
        rows, lengths, tokens, short = await self._lengths(snapshot)
        average = tokens / rows if rows else 1.0
        # The same operations in the same order as fts5Bm25Function, so each score is FTS5's to the bit.
        self._kept = _Kept(info, rows, K1 * (1 - B + B * lengths / average), short)
        if short is not None:
            self._kept.texts = await self._texts(snapshot, short)
            self._grown(self._kept, self._kept.texts.nbytes if self._kept.texts else 0)
        return self._kept

    async def _texts(self, snapshot: Snapshot, short: np.ndarray) -> ShortTexts | None:
        """The short entries' texts, read with the lengths (~0.3 s more for the 1M corpus), where they take
        at most half the budget (the postings share the rest); None where not, or where a text holds the
        separator itself: the database reads the page's short entries then."""
        ids, starts, data = [], [], bytearray()
        separator, budget = TEXT_SEPARATOR.encode(), self.max_bytes // 2
        joined = f" || char({ord(TEXT_SEPARATOR)}) || "
        sql = f"SELECT id, CAST(entity_id{joined}label{joined}body AS BLOB) FROM search_entry WHERE id >= ? AND id < ?"
        step = 1 << 14  # entry ids a statement: the rows held at once (articles' too) stay a few MB
        for low in range(0, len(short), step):
            for ident, record in await snapshot.all(sql, [low, low + step]):
                if short[ident]:
                    if record.count(separator) != 2 or len(data) + len(record) > budget:
                        return None
                    ids.append(ident)
                    starts.append(len(data))
                    data += record
        starts.append(len(data))
        texts = ShortTexts(np.array(ids, np.int32), np.array(starts, np.int64), data)
        return texts if texts.nbytes <= budget else None

    async def _lengths(self, snapshot: Snapshot) -> tuple[int, np.ndarray, int, np.ndarray | None]:
        """The number of entries, each one's length by id, all their lengths summed, and by id whether
        each column is at most `SNIPPET_TOKENS` long."""
        averages = await snapshot.all("SELECT block FROM search_fts_data WHERE id = 1")
        rows, *tokens = varints(averages[0][0]) if averages else [0]
        sizes = await snapshot.all("SELECT id, sz FROM search_fts_docsize")
        lengths = np.zeros(max((ident for ident, _ in sizes), default=0) + 1)
        short = np.zeros(len(lengths), bool)
        if sizes:
            ids = np.fromiter((ident for ident, _ in sizes), np.int64, len(sizes))
            lengths[ids] = [
                sum(size) if max(size, default=0) < 0x80 else sum(varints(size)) for _, size in sizes
            ]
            # A size under 0x80 is its own byte; a larger one starts with a byte over it: not short.
            short[ids] = np.fromiter(
                (max(size, default=0) <= SNIPPET_TOKENS for _, size in sizes), bool, len(sizes)
            )
        return rows, lengths, sum(tokens), short

    async def _postings_of(self, snapshot: Snapshot, kept: _Kept, prefix: str) -> Postings:
        postings = kept.postings.get(prefix)
        if postings is not None:
            kept.postings.move_to_end(prefix)
            return postings
        postings = await self._read_postings(snapshot, [prefix, prefix[:-1] + chr(ord(prefix[-1]) + 1)])
        if postings.nbytes <= self.max_bytes:
            kept.postings[prefix] = postings
            self._grown(kept, postings.nbytes)
        return postings

    def _order(
        self, kept: _Kept, terms: Sequence[str], postings: list[Postings]
    ) -> tuple[np.ndarray, np.ndarray] | None:
        """A search's matches by score, best first, ties by id, with their scores: every search of the
        same words reads a slice of the same order (of the kinds it asks for), so it is scored and sorted
        once and kept with the first word's postings. A common word's ranking then costs a page's slice,
        not scoring all its matches (15,000 of them for `war` on the benchmark's 1M corpus), and a name's
        no intersection of its words' postings. None where the first word is not kept, or the order
        would not fit beside it."""
        first, key = postings[0], tuple(terms)
        order = first.orders.get(key)
        if order is None:
            most = _order_bytes(key, min(len(words.entries) for words in postings))  # the rarest's
            if kept.postings.get(terms[0]) is not first or first.nbytes + most > self.max_bytes:
                return None
            entries, positions = _matches(postings)
            scores = _scores(kept, postings, positions, entries)
            best = _best(entries, scores, len(scores))
            order = first.orders[key] = (entries[best], scores[best])
            added = _order_bytes(key, len(best))
            first.orders_bytes += added
            self._grown(kept, added)
        return order

    def _grown(self, kept: _Kept, added: int) -> None:
        """Counts what was just kept, and drops the least recently searched words beyond the budget."""
        kept.bytes += added
        while kept.bytes > self.max_bytes:
            kept.bytes -= kept.postings.popitem(last=False)[1].nbytes

    async def _read_postings(self, snapshot: Snapshot, bounds: list[str]) -> Postings:
        """The postings of the words in [bounds[0], bounds[1]), as the load wrote them (`search_word`)."""
        p = snapshot.dialect.placeholder
        words = await snapshot.all(
            f"SELECT word, entries, counts FROM search_word WHERE word >= {p} AND word < {p} ORDER BY word",
            bounds,
        )
        if not words:
            return _merged([], _NONE, np.zeros(0), _NONE)
        entries = [_integers(ids) for _, ids, _ in words]
        return _merged(
            [word for word, _, _ in words],
            np.concatenate(entries),
            np.concatenate([_integers(counts) for _, _, counts in words]).astype(np.float64),
            np.repeat(np.arange(len(words), dtype=np.int32), [len(ids) for ids in entries]),
        )


class PostgresSearchIndex(SearchIndex):
    """The same ranking on PostgreSQL, read from the words and lengths each load writes from the
    `document` column (`app.dialects.POSTGRES_SEARCH_WORDS`): a word matches the entries that
    `document @@ to_tsquery(…)` matches, an entry's length is its number of words in `document`.

    A page's headlines are made in Python (`app.headlines`), but those of the entries whose texts it has
    declined for this dataset, which PostgreSQL makes (`ts_headline`): the first page that holds such an
    entry asks PostgreSQL a second time, the next ones in the same statement."""

    async def _lengths(self, snapshot: Snapshot) -> tuple[int, np.ndarray, int, np.ndarray | None]:
        found = await snapshot.all("SELECT entries, lengths FROM search_length")
        ids, sizes = (_integers(found[0][0]), _integers(found[0][1])) if found else (_NONE, _NONE)
        lengths = np.zeros(int(ids.max(initial=0)) + 1)
        lengths[ids] = sizes
        return len(ids), lengths, int(sizes.sum()), np.ones(len(lengths), bool)

    async def _texts(self, snapshot: Snapshot, short: np.ndarray) -> ShortTexts | None:
        return None  # the page's texts come with its rows

    def declined(self, ranking: Ranking, entries: Sequence[int]) -> None:
        """Entries whose headlines `app.headlines` does not make: PostgreSQL makes them from now on (one
        byte per entry id, kept with the lengths)."""
        kept = self._kept
        if kept is not None and kept.dataset is ranking.dataset and kept.short is not None:
            kept.short[list(entries)] = False

    def _snippet_query(
        self, snapshot: Snapshot, terms: Sequence[str], postings: list[Postings], entries: np.ndarray
    ) -> str:
        """`ts_headline`'s query: the user's words, each once, as prefixes (the page's rows alone are read).
        A word asked for twice would make PostgreSQL list each of its occurrences twice, and count them
        twice towards the window's 30 words (`app.headlines` leaves such texts to it)."""
        return snapshot.dialect.fts_query(list(dict.fromkeys(terms)))


_NONE = np.zeros(0, np.int32)


def _integers(blob: bytes) -> np.ndarray:
    """An array PostgreSQL wrote with `int4send`: big-endian 4-byte integers."""
    return np.frombuffer(blob, ">i4").astype(np.int32)


WORDS_SPLIT = "o"
"""Where a load divides the words between its two processes (`search_words`), in bytes' order, FTS5's:
for English text, about half the occurrences on each side (any word is on one side or the other)."""


def search_words(path: str, low: str | None, high: str | None) -> list[tuple[str, bytes, bytes]]:
    """SQLite: `search_word`'s rows for the words from `low` (included) to `high` (excluded; None for no
    bound), read from FTS5's own index in the file at `path`, once a load has completed, optimized and
    committed it, so a word matches exactly what `search_fts MATCH` matches: each word's entries
    (ascending ids) and its occurrences in each, weighted (`COLUMN_WEIGHTS`), as big-endian 4-byte
    integers, as on PostgreSQL. A search reads a word's row instead of decoding its occurrences from the
    index (`fts5vocab`): 0.03 s for the benchmark's first reads of its 515 words on the 1M corpus, against
    0.19 s (migration 0006). ~1.5 s a load of that corpus, which reads the two halves (`WORDS_SPLIT`) in
    its two processes at once."""
    label, body = (int(weight) for weight in COLUMN_WEIGHTS)
    connection = sqlite3.connect(path)
    try:
        connection.execute(
            "CREATE VIRTUAL TABLE temp.occurrences USING fts5vocab(main, search_fts, instance)"
        )
        connection.execute("PRAGMA query_only = 1")  # from here on, it only reads
        limits = [
            (condition, bound) for condition, bound in (("term >= ?", low), ("term < ?", high)) if bound
        ]
        where = f"WHERE {' AND '.join(condition for condition, _ in limits)} " if limits else ""
        # One row per word, its occurrences by entry (the table lists them by word, then entry), each
        # entry's id negative where the occurrence is in its label.
        words = connection.execute(
            "SELECT term, group_concat(CASE col WHEN 'label' THEN -doc ELSE doc END) "
            f"FROM temp.occurrences {where}GROUP BY term",
            [bound for _, bound in limits],
        ).fetchall()
    finally:
        connection.close()
    rows = []
    for word, occurrences in words:
        signed = np.fromstring(occurrences, np.int32, sep=",")
        entries = np.abs(signed)
        starts = np.flatnonzero(np.concatenate(([True], entries[1:] != entries[:-1])))
        counts = np.add.reduceat(np.where(signed < 0, label, body), starts)
        rows.append((word, entries[starts].astype(">i4").tobytes(), counts.astype(">i4").tobytes()))
    return rows


def _merged(words: list[str], entries: np.ndarray, weights: np.ndarray, word_of: np.ndarray) -> Postings:
    """A prefix's postings from its words' (entry, weighted count) pairs, given word by word: each
    entry once, with its words' counts summed."""
    if not len(entries):
        return Postings(_NONE, np.zeros(0), words, _NONE, _NONE)
    order = np.argsort(entries, kind="stable")
    by_entry = entries[order]
    starts = np.flatnonzero(np.concatenate(([True], by_entry[1:] != by_entry[:-1])))
    return Postings(
        by_entry[starts], np.add.reduceat(weights[order], starts), words, by_entry, word_of[order]
    )


def _order_bytes(key: tuple[str, ...], matches: int) -> int:
    """The memory a kept order takes, or a little more: 12 bytes a match (its entry and score), and for its
    arrays' headers, its key and the slot that holds it 400 bytes and 80 a word (a three-word name's 10
    matches take 713 bytes by `tracemalloc`, counted as 778)."""
    return 12 * matches + 400 + sum(80 + len(word) for word in key)


def _matches(postings: list[Postings]) -> tuple[np.ndarray, dict[int, np.ndarray]]:
    """The entries (ascending) all the words are in, and where each is in each word's postings: the
    rarest word's entries looked up in the others', the next rarest first."""
    rarest, *others = sorted(range(len(postings)), key=lambda i: len(postings[i].entries))
    entries = postings[rarest].entries
    positions = {rarest: np.arange(len(entries))}
    for other in others:
        common, found = _common(entries, postings[other].entries)
        entries, positions = entries[common], {i: at[common] for i, at in positions.items()}
        positions[other] = found
    return entries, positions


def _common(these: np.ndarray, those: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Where the entries two ascending arrays share are in each: the shorter is looked up in the longer."""
    if len(these) > len(those):
        found, kept = _common(those, these)
        return kept, found
    at = np.minimum(np.searchsorted(those, these), max(len(those) - 1, 0))
    kept = np.flatnonzero(those[at] == these) if len(those) else np.zeros(0, np.int64)
    return kept, at[kept]


def _scores(
    kept: _Kept, postings: list[Postings], positions: dict[int, np.ndarray], entries: np.ndarray
) -> np.ndarray:
    """FTS5's bm25 of these entries, times their kind's boost: `positions[i]` is where each entry is in
    the i-th word's postings. The same operations in the same order as FTS5, so the same bits."""
    norms = kept.norms[entries]
    scores = np.zeros(len(entries))
    for i, words in enumerate(postings):  # summed in the query's order, as FTS5 sums them
        at, matching = positions[i], len(words.entries)
        idf = math.log((kept.rows - matching + 0.5) / (matching + 0.5))
        counts = words.counts[at]
        scores = scores + (idf if idf > 0 else 1e-6) * ((counts * (K1 + 1.0)) / (counts + norms))
    boosted: np.ndarray = scores * _BOOSTS[entries % SEARCH_KIND_MODULUS]
    return boosted


def _best(entries: np.ndarray, scores: np.ndarray, count: int) -> np.ndarray:
    """Positions of the `count` best matches, best first, ties by entry id (FTS5's `ORDER BY score DESC, hit`)."""
    if count < len(scores):
        threshold = scores[np.argpartition(-scores, count - 1)[count - 1]]
        candidates = np.flatnonzero(scores >= threshold)  # every tie at the threshold, to order by id
    else:
        candidates = np.arange(len(scores))
    order = np.lexsort((entries[candidates], -scores[candidates]))
    return candidates[order][:count]
