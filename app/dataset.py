"""From validated facts files to the rows of the database, with every snippet located in its text.

`build_dataset` reads every article folder, finds each evidence snippet in the article's text (storing
offsets in code points, so `text[start:end]` is the snippet), merges records that several articles share,
checks every reference, and returns a `Dataset` whose `tables` builds the rows to insert, table by table.
It writes nothing: `app.loader` does that, and `python -m app check` stops here.
"""

from __future__ import annotations

import calendar
import datetime as dt
import hashlib
import os
import re
from collections import defaultdict, deque
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mypy_extensions import mypyc_attr

from app import documents
from app.facts_file import (
    Alias,
    Claim,
    DateSpec,
    Evidence,
    FactsFile,
    PlaceLink,
    Snippet,
)
from app.folding import fold
from app.identifiers import ID_PATTERN
from app.seed_files import ArticleSeed, SeedError, SeedErrors, article_folders, read_article

# Bump when the stored representation changes, so a new build gets a new dataset version (and ETags).
FORMAT_VERSION = "1"
WEEKDAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
KINDS = ("person", "unit", "place", "event", "quote", "figure")


Progress = Callable[[str, int, int], None]
"""Told how far a load has come: the stage (`reading articles`), the items done and the items in all."""


@mypyc_attr(native_class=False)
@dataclass
class EvidenceItem:
    """A span of an article and the fact it supports. Serialised by orjson as it is (a dataclass), so
    the field order here is the order of the keys in the API. Not `slots=True`: orjson writes a
    dataclass with a `__dict__` four times faster, and a load writes a million of them.

    A plain Python class even where mypyc compiles this module (`native_class=False`). A compiled one
    has no `__dict__`, so orjson reads its fields one by one, drops the reference each read gives it,
    and then serialises the value; a compiled class keeps `start` and `end` as machine integers and
    makes a new `int` at each read, so orjson read freed memory (a crash under PYTHONMALLOC=malloc or
    a debug allocator, `tests/test_loader.py`). Its `__dict__` holds its values, and is faster too."""

    article: str
    start: int
    end: int
    text: str
    certainty: str
    field: str
    related: str | None
    note: str | None


@dataclass
class Link:
    """A membership, relation, place, participant or similar: a target id plus how it is known."""

    target: str
    role: str | None
    certainty: str
    note: str | None
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class Entity:
    """A person, unit, place, event, quote or figure, merged over every article that states it."""

    kind: str
    id: str
    fields: dict[str, Any] = field(default_factory=dict)
    field_source: dict[str, str] = field(default_factory=dict)
    articles: list[str] = field(default_factory=list)
    aliases: dict[str, dict[str, Any]] = field(default_factory=dict)
    links: dict[str, list[Link]] = field(default_factory=lambda: defaultdict(list))
    inferred: list[dict[str, Any]] = field(default_factory=list)
    evidence: list[EvidenceItem] = field(default_factory=list)
    ages: list[dict[str, Any]] = field(default_factory=list)
    evidence_docs: list[EvidenceItem] | None = None  # the evidence as served, built once by `documents`

    def link(self, name: str, new: Link) -> None:
        """Add a link once; the same link stated in two articles is one link (first certainty kept)."""
        for existing in self.links[name]:
            if (existing.target, existing.role) == (new.target, new.role):
                if existing.certainty == "inferred" and new.certainty == "stated":
                    existing.certainty, existing.note = "stated", new.note
                return
        self.links[name].append(new)


@dataclass
class Facts:
    """Everything the seeds say, merged; what `documents` renders and `rows` stores."""

    articles: dict[str, dict[str, Any]] = field(default_factory=dict)
    texts: dict[str, str] = field(default_factory=dict)
    entities: dict[str, dict[str, Entity]] = field(default_factory=lambda: {k: {} for k in KINDS})
    version: str = ""

    def get(self, kind: str, ident: str) -> Entity:
        return self.entities[kind][ident]

    def name_of(self, kind: str, ident: str) -> str:
        entity = self.entities[kind][ident]
        return str(entity.fields.get("name") or entity.fields.get("title") or entity.fields.get("text"))


@dataclass
class Dataset:
    facts: Facts
    version: str
    counts: dict[str, int]
    rows: dict[str, list[documents.Row]] = field(default_factory=dict)
    """Every table's rows, once `build_rows` has run."""
    fact_count: int = 0
    """Records plus the links and evidence between them, in the tables built so far: the unit the
    loader's speed is quoted in."""

    def tables(self, written: documents.Part | None = None) -> Iterator[documents.Part]:
        """Build the rows of every table, yielding each table (or part of one) as soon as it is complete:
        a loader writes it while the next ones are built, and once it lets go of it its memory serves the
        next. `written`: the articles' search entries, if written already (`documents.article_entries`)."""
        for part in documents.tables(self.facts, written):
            if part.table != "search_entry":
                self.fact_count += len(part.rows)
            yield part
            del part  # before the next table is built

    def build_rows(self, progress: Progress | None = None) -> None:
        """Build every table at once, into `rows`."""
        number = 0
        for table, rows, last in self.tables():
            self.rows.setdefault(table, []).extend(rows)
            number += last
            if progress and last:
                progress("building documents", number, documents.TABLES)

    def release(self) -> None:
        """Let go of the facts and rows once they are written (millions of objects on a big corpus);
        the version and the counts stay. Record by record: freeing them all in one step would hold the
        interpreter for half a second and more, and the loader's other thread (feeding the process
        that writes the database) gets its turns in between instead."""
        facts, self.facts, self.rows = self.facts, Facts(), {}
        for records in facts.entities.values():
            while records:
                records.popitem()


class _ArticleContext:
    """Locates snippets in one article and reports problems against the record being read."""

    def __init__(self, seed: ArticleSeed, display: str, errors: list[SeedError]) -> None:
        self.seed = seed
        self.article = seed.id
        self.text = seed.text
        self.display = display
        self.errors = errors
        self.record: str | None = None
        self._occurrences: dict[str, list[int]] = {}

    def error(self, message: str, field_name: str | None) -> None:
        self.errors.append(SeedError(self.display, message, self.record, field_name))

    def _positions(self, words: str) -> list[int]:
        if words not in self._occurrences:
            found, at = [], self.text.find(words)
            while at != -1:
                found.append(at)
                at = self.text.find(words, at + 1)
            self._occurrences[words] = found
        return self._occurrences[words]

    def locate(
        self,
        words: str,
        field_name: str,
        occurrence: int | None = None,
        prefix: str | None = None,
        suffix: str | None = None,
    ) -> tuple[int, int] | None:
        """The offsets of `words` in the text: exactly one match, or the match the selectors pick."""
        if occurrence is None and prefix is None and suffix is None:  # the common case, in two C calls
            start = self.text.find(words)
            if start != -1 and self.text.find(words, start + 1) == -1:
                return start, start + len(words)
        positions = self._positions(words)
        if not positions:
            self.error(
                f"snippet {words!r} is not in the article text (copy it exactly, quotes included)", field_name
            )
            return None
        if prefix is not None:
            positions = [p for p in positions if self.text[max(0, p - len(prefix)) : p] == prefix]
        if suffix is not None:
            positions = [p for p in positions if self.text.startswith(suffix, p + len(words))]
        if occurrence is not None:
            if occurrence > len(positions):
                self.error(
                    f"snippet {words!r} has no occurrence {occurrence} (it occurs {len(positions)} times)",
                    field_name,
                )
                return None
            start = positions[occurrence - 1]
        elif len(positions) != 1:
            if not positions:
                self.error(f"no occurrence of snippet {words!r} has that prefix/suffix", field_name)
            else:
                self.error(
                    f"snippet {words!r} occurs {len(positions)} times; say which with `occurrence`, "
                    "`prefix` or `suffix`, or quote more of the sentence",
                    field_name,
                )
            return None
        else:
            start = positions[0]
        return start, start + len(words)

    def evidence(
        self,
        snippets: Sequence[Snippet],
        field_name: str,
        certainty: str = "stated",
        note: str | None = None,
        related: str | None = None,
    ) -> list[EvidenceItem]:
        if not snippets:  # most fields of most records
            return []
        items = []
        kind = field_name.split("[")[0].split(".")[0]
        for index, snippet in enumerate(snippets):
            where = f"{field_name}[{index}]" if len(snippets) > 1 else field_name
            span = self.locate(snippet.text, where, snippet.occurrence, snippet.prefix, snippet.suffix)
            if span is None:
                continue
            inferred = "inferred" if certainty == "inferred" or snippet.certainty == "inferred" else "stated"
            items.append(
                EvidenceItem(
                    self.article,
                    span[0],
                    span[1],
                    snippet.text,
                    inferred,
                    kind,
                    related,
                    snippet.note or note,
                )
            )
        return items


class _Builder:
    def __init__(self, seeds_dir: Path) -> None:
        self.seeds_dir = seeds_dir
        self.errors: list[SeedError] = []
        self.facts = Facts()
        # (kind, id, where-it-was-referenced) checked once every article is read
        self.references: list[tuple[str, str, str, str | None, str]] = []
        self.defined_in: dict[tuple[str, str], str] = {}
        self.digests: dict[str, bytes] = {}  # of the files read, for the dataset version

    # -- reading ---------------------------------------------------------------------------------

    def read(self, progress: Progress | None = None) -> list[ArticleSeed]:
        if not self.seeds_dir.is_dir():
            raise SeedErrors(
                [SeedError(str(self.seeds_dir), "no such folder; set SEEDS_DIR to the seeds folder")]
            )
        seeds = []
        try:
            folders = list(article_folders(self.seeds_dir))
        except OSError as exc:
            raise SeedErrors(
                [SeedError(str(self.seeds_dir), f"cannot read the folder: {exc.strerror}")]
            ) from None
        for number, folder in enumerate(folders, start=1):
            if progress:
                progress("reading articles", number, len(folders))
            seed, errors = read_article(folder, self.seeds_dir)
            self.errors += errors
            if seed is not None:
                if not re.match(ID_PATTERN, seed.id):
                    self.errors.append(
                        SeedError(
                            seed.display_path(self.seeds_dir),
                            f"folder name {seed.id!r} is the article's id: use lowercase words joined by hyphens",
                        )
                    )
                    continue
                seeds.append(seed)
                self.digests |= seed.digests
        if not seeds and not self.errors:
            self.errors.append(SeedError(str(self.seeds_dir), "no article folders found"))
        # Oldest first, so that where articles differ (a person's age) the latest one is read last.
        return sorted(seeds, key=lambda s: (s.article.published.start or "", s.id))

    def add(self, seed: ArticleSeed) -> None:
        """Validate the article's whole file, then check its facts and merge them into `facts`."""
        facts, errors = seed.validate(self.seeds_dir)
        self.errors += errors
        if facts is None:
            return
        ctx = _ArticleContext(seed, seed.display_path(self.seeds_dir), self.errors)
        self.facts.texts[seed.id] = seed.text
        self._article(ctx, facts)
        self._check_unique_ids(ctx, facts)
        for person in facts.people:
            ctx.record = f"person `{person.id}`"
            self._person(ctx, person)
        for unit in facts.units:
            ctx.record = f"unit `{unit.id}`"
            self._unit(ctx, unit)
        for place in facts.places:
            ctx.record = f"place `{place.id}`"
            self._place(ctx, place)
        for event in facts.events:
            ctx.record = f"event `{event.id}`"
            self._event(ctx, event)
        for quote in facts.quotes:
            ctx.record = f"quote `{quote.id}`"
            self._quote(ctx, quote)
        for figure in facts.figures:
            ctx.record = f"figure `{figure.id}`"
            self._figure(ctx, figure)

    def _check_unique_ids(self, ctx: _ArticleContext, facts: FactsFile) -> None:
        for section in ("people", "units", "places", "events", "quotes", "figures"):
            seen: dict[str, int] = {}
            for index, record in enumerate(getattr(facts, section)):
                if record.id in seen:
                    ctx.record = None
                    ctx.error(
                        f"id `{record.id}` is used twice ({section}[{seen[record.id]}] and {section}[{index}]); "
                        "ids must be unique",
                        f"{section}[{index}].id",
                    )
                seen.setdefault(record.id, index)

    # -- shared pieces ---------------------------------------------------------------------------

    def _entity(self, ctx: _ArticleContext, kind: str, ident: str, shared: bool) -> Entity | None:
        """The record with this id, created on first sight. Quotes and figures belong to one article."""
        existing = self.facts.entities[kind].get(ident)
        if existing is not None and ctx.article in existing.articles:
            return None  # a duplicate inside one file, reported by _check_unique_ids
        if existing is not None and not shared:
            ctx.error(
                f"id `{ident}` is already used by a {kind} in {self.defined_in[(kind, ident)]}; "
                f"a {kind} belongs to one article, so give it another id",
                "id",
            )
            return None
        if existing is None:
            existing = self.facts.entities[kind][ident] = Entity(kind, ident)
            self.defined_in[(kind, ident)] = ctx.display
        existing.articles.append(ctx.article)
        return existing

    def _set(self, ctx: _ArticleContext, entity: Entity, name: str, value: Any) -> None:
        """Set a field; a record in several articles must say the same thing in each (or leave it out)."""
        if value is None:
            return
        if name in entity.fields and entity.fields[name] != value:
            ctx.error(
                f"{value!r} differs from {entity.fields[name]!r} in {entity.field_source[name]}; a record "
                "shared by several articles must agree there (or leave the field out)",
                name,
            )
            return
        entity.fields[name] = value
        entity.field_source[name] = ctx.display

    def _claim(self, ctx: _ArticleContext, entity: Entity, name: str, claim: Claim[Any] | None) -> None:
        if claim is None:
            return
        self._set(ctx, entity, name, claim.value)
        self._provenance(ctx, entity, name, claim.evidence, claim.certainty, claim.note)

    def _provenance(
        self,
        ctx: _ArticleContext,
        entity: Entity,
        name: str,
        evidence: Sequence[Snippet],
        certainty: str,
        note: str | None,
        related: str | None = None,
    ) -> None:
        entity.evidence += ctx.evidence(evidence, name, certainty, note, related)
        if certainty == "inferred":
            entry = {"field": name, "related": related, "note": note}
            if entry not in entity.inferred:
                entity.inferred.append(entry)

    def _record_basics(self, ctx: _ArticleContext, entity: Entity, record: Any) -> None:
        self._set(ctx, entity, "description", record.description)
        self._set(ctx, entity, "certainty", record.certainty)
        self._set(ctx, entity, "note", record.note)
        self._provenance(ctx, entity, "mention", record.evidence, record.certainty, record.note)

    def _aliases(self, ctx: _ArticleContext, entity: Entity, aliases: Iterable[Alias]) -> None:
        for index, alias in enumerate(aliases):
            folded = fold(alias.name)
            if alias.name == entity.fields.get("name"):
                ctx.error(f"alias {alias.name!r} is the record's own name", f"aliases[{index}].name")
                continue
            entity.evidence += ctx.evidence(alias.evidence, f"aliases[{index}]", related=None)
            entry = {"name": alias.name, "lang": alias.lang, "source": alias.source, "note": alias.note}
            previous = entity.aliases.get(folded)
            if previous is None or (previous["source"] == "external" and alias.source == "article"):
                entity.aliases[folded] = entry

    def _places(self, ctx: _ArticleContext, entity: Entity, links: Iterable[PlaceLink]) -> None:
        for index, link in enumerate(links):
            self._reference(ctx, "place", link.place, f"places[{index}].place")
            entity.link("places", Link(link.place, link.role, link.certainty, link.note))
            self._provenance(ctx, entity, "places", link.evidence, link.certainty, link.note, link.place)

    def _reference(self, ctx: _ArticleContext, kind: str, ident: str, field_name: str) -> None:
        self.references.append((kind, ident, ctx.display, ctx.record, field_name))

    def _date(self, ctx: _ArticleContext, spec: DateSpec | None, field_name: str) -> dict[str, Any]:
        """Widen a reduced ISO date to whole days; resolve a weekday against the reference date."""
        if spec is None:
            return {
                "text": None,
                "start": None,
                "end": None,
                "precision": "unknown",
                "certainty": None,
                "note": None,
            }
        start = end = None
        precision: str | None = spec.precision
        if spec.weekday:
            reference = ctx.seed.article.reference_date
            if reference is None:
                ctx.error(
                    "a `weekday` date needs `article.reference_date` to resolve against",
                    f"{field_name}.weekday",
                )
            else:
                ref = dt.date.fromisoformat(_first_day(reference.date))
                back = (ref.weekday() - WEEKDAYS.index(spec.weekday)) % 7 or 7
                start = end = (ref - dt.timedelta(days=back)).isoformat()
                precision = precision or "day"
        elif spec.start:
            start = _first_day(spec.start)
            end = None if spec.ongoing else _last_day(spec.end or spec.start)
            granularity = _granularity(spec.start)
            if spec.end and _granularity(spec.end) != granularity:
                granularity = "range"
            precision = precision or granularity
        return {
            "text": spec.text,
            "start": start,
            "end": end,
            "precision": precision or "unknown",
            "certainty": spec.certainty,
            "note": spec.note,
        }

    # -- one method per kind ---------------------------------------------------------------------

    def _article(self, ctx: _ArticleContext, facts: FactsFile) -> None:
        meta = facts.article
        ctx.record = "article"
        inferred = []
        evidence: list[EvidenceItem] = []
        for name in ("title", "author", "outlet", "language", "original_language"):
            claim = getattr(meta, name)
            if claim is None:
                continue
            evidence += ctx.evidence(claim.evidence, name, claim.certainty, claim.note)
            if claim.certainty == "inferred":
                inferred.append({"field": name, "related": None, "note": claim.note})
        published = self._date(ctx, meta.published, "published")
        if meta.published.certainty == "inferred":
            inferred.append({"field": "published", "related": None, "note": meta.published.note})
        evidence += ctx.evidence(
            meta.published.evidence, "published", meta.published.certainty, meta.published.note
        )
        self.facts.articles[ctx.article] = {
            "id": ctx.article,
            "title": meta.title.value,
            "author": meta.author.value if meta.author else None,
            "outlet": meta.outlet.value if meta.outlet else None,
            "published": published,
            "language": meta.language.value,
            "original_language": meta.original_language.value if meta.original_language else None,
            "length": len(ctx.text),
            "sha256": meta.sha256,
            "received_as": meta.received_as,
            "url": meta.url,
            "reference_date": (
                {"date": _first_day(meta.reference_date.date), "note": meta.reference_date.note}
                if meta.reference_date
                else None
            ),
            "inferred": inferred,
            "evidence": evidence,
        }

    def _person(self, ctx: _ArticleContext, person: Any) -> None:
        entity = self._entity(ctx, "person", person.id, shared=True)
        if entity is None:
            return
        self._set(ctx, entity, "name", person.name)
        self._record_basics(ctx, entity, person)
        self._aliases(ctx, entity, person.aliases)
        self._claim(ctx, entity, "nationality", person.nationality)
        if person.age is not None:
            entity.ages.append(
                {"article": ctx.article, "age": person.age.value, "certainty": person.age.certainty}
            )
            self._provenance(ctx, entity, "age", person.age.evidence, person.age.certainty, person.age.note)
        for index, membership in enumerate(person.memberships):
            self._reference(ctx, "unit", membership.unit, f"memberships[{index}].unit")
            entity.link(
                "units",
                Link(
                    membership.unit,
                    membership.role,
                    membership.certainty,
                    membership.note,
                    {"since": membership.since},
                ),
            )
            self._provenance(
                ctx,
                entity,
                "units",
                membership.evidence,
                membership.certainty,
                membership.note,
                membership.unit,
            )
        for index, relation in enumerate(person.relations):
            self._reference(ctx, "person", relation.person, f"relations[{index}].person")
            entity.link("relations", Link(relation.person, relation.role, relation.certainty, relation.note))
            self._provenance(
                ctx,
                entity,
                "relations",
                relation.evidence,
                relation.certainty,
                relation.note,
                relation.person,
            )
        self._places(ctx, entity, person.places)

    def _unit(self, ctx: _ArticleContext, unit: Any) -> None:
        entity = self._entity(ctx, "unit", unit.id, shared=True)
        if entity is None:
            return
        self._set(ctx, entity, "name", unit.name)
        self._set(ctx, entity, "kind", unit.kind)
        self._record_basics(ctx, entity, unit)
        self._aliases(ctx, entity, unit.aliases)
        for name in ("country", "side"):
            claim = getattr(unit, name)
            if claim is not None:
                self._reference(ctx, "place", claim.value, f"{name}.value")
            self._claim(ctx, entity, name, claim)
        if unit.named_after is not None:
            named = unit.named_after
            if named.person:
                self._reference(ctx, "person", named.person, "named_after.person")
            self._set(ctx, entity, "named_after", {"text": named.text, "person": named.person})
            self._provenance(
                ctx, entity, "named_after", named.evidence, named.certainty, named.note, named.person
            )
        self._places(ctx, entity, unit.places)

    def _place(self, ctx: _ArticleContext, place: Any) -> None:
        entity = self._entity(ctx, "place", place.id, shared=True)
        if entity is None:
            return
        self._set(ctx, entity, "name", place.name)
        self._set(ctx, entity, "kind", place.kind)
        self._set(ctx, entity, "country", place.country)
        if place.country:
            self._reference(ctx, "place", place.country, "country")
        self._record_basics(ctx, entity, place)
        self._aliases(ctx, entity, place.aliases)

    def _event(self, ctx: _ArticleContext, event: Any) -> None:
        entity = self._entity(ctx, "event", event.id, shared=True)
        if entity is None:
            return
        self._set(ctx, entity, "title", event.title)
        self._set(ctx, entity, "kind", event.kind)
        self._record_basics(ctx, entity, event)
        date = self._date(ctx, event.date, "date")
        if date["precision"] != "unknown" or "date" not in entity.fields:
            self._set(ctx, entity, "date", date)
        if event.date is not None:
            self._provenance(ctx, entity, "date", event.date.evidence, event.date.certainty, event.date.note)
        self._places(ctx, entity, event.places)
        for index, participant in enumerate(event.participants):
            kind = "person" if participant.person else "unit"
            target = participant.person or participant.unit
            self._reference(ctx, kind, target, f"participants[{index}].{kind}")
            entity.link(
                "participants",
                Link(target, participant.role, participant.certainty, participant.note, {"kind": kind}),
            )
            self._provenance(
                ctx,
                entity,
                "participants",
                participant.evidence,
                participant.certainty,
                participant.note,
                target,
            )

    def _quote(self, ctx: _ArticleContext, quote: Any) -> None:
        entity = self._entity(ctx, "quote", quote.id, shared=False)
        if entity is None:
            return
        span = ctx.locate(quote.text, "text", quote.occurrence, quote.prefix, quote.suffix)
        if span is None:
            return
        speaker = quote.speaker
        if speaker.person:
            self._reference(ctx, "person", speaker.person, "speaker.person")
        entity.fields.update(
            text=quote.text,
            article=ctx.article,
            start=span[0],
            end=span[1],
            speaker=speaker.person,
            speaker_description=speaker.description,
            anonymous=speaker.anonymous,
            certainty=speaker.certainty,
            note=speaker.note,
        )
        entity.evidence.append(
            EvidenceItem(ctx.article, span[0], span[1], quote.text, "stated", "quote", None, None)
        )
        self._provenance(
            ctx, entity, "speaker", speaker.evidence, speaker.certainty, speaker.note, speaker.person
        )
        entity.fields["addressee"] = None
        if quote.addressee is not None:
            addressee = quote.addressee
            targets = [("person", p) for p in addressee.people] + [("unit", u) for u in addressee.units]
            for kind, target in targets:
                self._reference(ctx, kind, target, f"addressee.{'people' if kind == 'person' else 'units'}")
            entity.fields["addressee"] = addressee.text
            entity.fields["addressees"] = targets
            self._provenance(
                ctx, entity, "addressee", addressee.evidence, addressee.certainty, addressee.note
            )
        entity.fields["medium"] = None
        if quote.medium is not None:
            medium = quote.medium
            if medium.outlet:
                self._reference(ctx, "unit", medium.outlet, "medium.outlet")
            entity.fields["medium"] = medium.text
            entity.fields["outlet"] = medium.outlet
            self._provenance(
                ctx, entity, "medium", medium.evidence, medium.certainty, medium.note, medium.outlet
            )
        if quote.occasion is not None:
            occasion = quote.occasion
            self._reference(ctx, "event", occasion.event, "occasion.event")
            entity.fields["event"] = occasion.event
            self._provenance(
                ctx, entity, "event", occasion.evidence, occasion.certainty, occasion.note, occasion.event
            )
        if quote.about is not None:
            about = quote.about
            target_kind = "unit" if about.unit else "person" if about.person else None
            target = about.unit or about.person
            if target_kind and target:
                self._reference(ctx, target_kind, target, f"about.{target_kind}")
            entity.fields["about"] = {"text": about.text, "kind": target_kind, "id": target}
            self._provenance(ctx, entity, "about", about.evidence, about.certainty, about.note, target)
        entity.evidence += ctx.evidence(quote.evidence, "attribution")

    def _figure(self, ctx: _ArticleContext, figure: Any) -> None:
        entity = self._entity(ctx, "figure", figure.id, shared=False)
        if entity is None:
            return
        span = ctx.locate(figure.text, "text", figure.occurrence, figure.prefix, figure.suffix)
        if span is None:
            return
        subject = None
        if figure.subject is not None:
            kind = "person" if figure.subject.person else "unit" if figure.subject.unit else "event"
            target = figure.subject.person or figure.subject.unit or figure.subject.event
            self._reference(ctx, kind, target, f"subject.{kind}")
            subject = {"kind": kind, "id": target, "property": figure.subject.property}
        entity.fields.update(
            text=figure.text,
            article=ctx.article,
            start=span[0],
            end=span[1],
            amount=figure.amount,
            lower=figure.lower,
            upper=figure.upper,
            qualifier=figure.qualifier,
            unit=figure.unit,
            counts=figure.counts,
            subject=subject,
            certainty=figure.certainty,
            note=figure.note,
        )
        entity.evidence.append(
            EvidenceItem(ctx.article, span[0], span[1], figure.text, figure.certainty, "figure", None, None)
        )
        self._provenance(ctx, entity, "mention", figure.evidence, figure.certainty, figure.note)

    # -- after every article ---------------------------------------------------------------------

    def check_references(self) -> None:
        for kind, ident, display, record, field_name in self.references:
            if ident not in self.facts.entities[kind]:
                self.errors.append(
                    SeedError(display, f"no {kind} `{ident}` in any facts file", record, field_name)
                )


def _granularity(value: str) -> str:
    return {4: "year", 7: "month", 10: "day"}[len(value)]


def _first_day(value: str) -> str:
    return {4: f"{value}-01-01", 7: f"{value}-01", 10: value}[len(value)]


def _last_day(value: str) -> str:
    if len(value) == 4:
        return f"{value}-12-31"
    if len(value) == 7:
        year, month = int(value[:4]), int(value[5:])
        return f"{value}-{calendar.monthrange(year, month)[1]:02d}"
    return value


def seeds_version(seeds_dir: Path, known: Mapping[str, bytes] | None = None) -> str:
    """A hash of every file in every article folder: the dataset version, known without parsing.
    `known` holds the SHA-256 of files already read (by path under `seeds_dir`), so they are not read again."""
    digest = hashlib.sha256(f"newsfacts-format-{FORMAT_VERSION}".encode())
    for folder in article_folders(seeds_dir):
        # os.walk rather than Path.rglob: the same files in the same order, in half the time on a big corpus
        files = [os.path.join(top, name) for top, _, names in os.walk(folder) for name in names]
        for relative in sorted(os.path.relpath(path, seeds_dir).split(os.sep) for path in files):
            name = "/".join(relative)
            digest.update(name.encode())
            file_digest = known.get(name) if known else None
            if file_digest is None:
                with open(os.path.join(seeds_dir, *relative), "rb") as file:
                    file_digest = hashlib.sha256(file.read()).digest()
            digest.update(file_digest)
    return digest.hexdigest()


def build_dataset(
    seeds_dir: Path,
    progress: Progress | None = None,
    articles_read: Callable[[documents.Part], None] | None = None,
) -> Dataset:
    """Read and check every article under `seeds_dir`; raise SeedErrors listing every problem.
    `articles_read` is given the articles' search entries (`documents.article_entries`) once every article
    is read without a problem, before their facts are checked: a loader can index their texts meanwhile."""
    builder = _Builder(seeds_dir)
    seeds = deque(builder.read(progress))
    if articles_read is not None and not builder.errors:
        articles_read(documents.article_entries(sorted((s.id, s.article.title.value, s.text) for s in seeds)))
    total = len(seeds)
    for number in range(1, total + 1):
        # Each parsed file is let go of once merged into builder.facts: the facts reuse its memory rather
        # than the kernel's (100,000 fewer page faults for 1M facts).
        seed = seeds.popleft()
        if progress:
            progress("checking articles", number, total)
        builder.add(seed)
    builder.check_references()
    if builder.errors:
        raise SeedErrors(builder.errors)
    facts = builder.facts
    facts.version = seeds_version(seeds_dir, builder.digests)
    counts = {kind: len(facts.entities[kind]) for kind in KINDS} | {"article": len(facts.articles)}
    return Dataset(facts, facts.version, counts)


__all__ = ["Dataset", "Evidence", "Facts", "SeedErrors", "build_dataset"]
