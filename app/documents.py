"""The JSON representation of every record, built once at load time, and the rows that store it.

Building the documents here (instead of per request) means a request only filters, pages and copies
bytes; each record's CSV line (`app.tabular`) is made from its document here too, for the same reason.
The shapes are the API's contract; `app.schemas` declares them for OpenAPI, and the tests check that
every stored document validates against its schema.
"""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any, NamedTuple

import orjson

from app.folding import fold
from app.models import TABLE_ORDER, metadata
from app.schemas import RECORD_MODELS
from app.search_kinds import search_entry_id
from app.tabular import line_writer

if TYPE_CHECKING:
    from app.dataset import Entity, EvidenceItem, Facts, Link


Row = tuple[Any, ...]
# A named tuple per table, its fields the table's columns: a row holds its values and nothing else, goes
# to the database as it is, and a misspelt column fails at once.
ROW: dict[str, Any] = {
    name: namedtuple(f"{name}_row", [column.name for column in metadata.tables[name].columns])
    for name in TABLE_ORDER
}


def _dump(doc: dict[str, Any]) -> bytes:
    # A right-sized copy: orjson (3.12 on) hands back its whole write buffer, 4 KiB and up, as the bytes
    # object; kept for 200,000 documents that is ~1.5 GB of memory the kernel must fault in, for ~0.2 GB
    # of JSON. The copy costs a memcpy, and orjson's buffer is freed and reused by the next document.
    return bytes(memoryview(orjson.dumps(doc)))


def _ref(facts: Facts, kind: str, ident: str | None) -> dict[str, Any] | None:
    return None if ident is None else {"id": ident, "name": facts.name_of(kind, ident)}


def _links(facts: Facts, kind: str, links: list[Link], **extra_keys: str) -> list[dict[str, Any]]:
    out = []
    for link in links:
        item: dict[str, Any] = {
            "id": link.target,
            "name": facts.name_of(kind, link.target),
            "role": link.role,
        }
        for key, source in extra_keys.items():
            item[key] = link.extra.get(source)
        item["certainty"] = link.certainty
        item["note"] = link.note
        out.append(item)
    return out


def _evidence(entity: Entity) -> list[EvidenceItem]:
    """The entity's evidence in text order, each span-and-fact once (articles may repeat a snippet)."""
    if entity.evidence_docs is not None:
        return entity.evidence_docs
    seen: set[tuple[Any, ...]] = set()
    unique = []
    for item in sorted(entity.evidence, key=lambda e: (e.article, e.start, e.end, e.field, e.related or "")):
        key = (item.article, item.start, item.end, item.field, item.related, item.certainty, item.note)
        if key not in seen:
            seen.add(key)
            unique.append(item)
    entity.evidence_docs = unique
    return unique


def _common(entity: Entity) -> dict[str, Any]:
    return {
        "certainty": entity.fields.get("certainty", "stated"),
        "note": entity.fields.get("note"),
        "inferred": entity.inferred,
        "articles": entity.articles,
        "evidence": _evidence(entity),
    }


def _aliases(entity: Entity) -> list[dict[str, Any]]:
    return list(entity.aliases.values())


def person_doc(facts: Facts, person: Entity) -> dict[str, Any]:
    ages = person.ages
    return {
        "id": person.id,
        "name": person.fields["name"],
        "aliases": _aliases(person),
        "age": ages[-1]["age"] if ages else None,
        "ages": ages,
        "nationality": person.fields.get("nationality"),
        "description": person.fields.get("description"),
        "units": _links(facts, "unit", person.links["units"], since="since"),
        "relations": _links(facts, "person", person.links["relations"]),
        "places": _links(facts, "place", person.links["places"]),
    } | _common(person)


def _sizes(facts: Facts) -> dict[str, dict[str, Any]]:
    """Each unit's size: the figure whose subject property is `size` (the latest article's, if several)."""
    sizes = {}
    for figure in facts.entities["figure"].values():
        subject = figure.fields["subject"]
        if subject and subject["property"] == "size":
            fields = figure.fields
            sizes[subject["id"]] = {
                "amount": fields["amount"],
                "lower": fields["lower"],
                "upper": fields["upper"],
                "qualifier": fields["qualifier"],
                "text": fields["text"],
                "figure": figure.id,
            }
    return sizes


def unit_doc(
    facts: Facts, unit: Entity, members: list[dict[str, Any]], size: dict[str, Any] | None
) -> dict[str, Any]:
    named = unit.fields.get("named_after")
    return {
        "id": unit.id,
        "name": unit.fields["name"],
        "aliases": _aliases(unit),
        "kind": unit.fields["kind"],
        "description": unit.fields.get("description"),
        "country": unit.fields.get("country"),
        "side": unit.fields.get("side"),
        "size": size,
        "named_after": (
            None
            if named is None
            else {
                "text": named["text"],
                "id": named["person"],
                "name": facts.name_of("person", named["person"]) if named["person"] else None,
            }
        ),
        "places": _links(facts, "place", unit.links["places"]),
        "members": members,
    } | _common(unit)


def place_doc(place: Entity) -> dict[str, Any]:
    return {
        "id": place.id,
        "name": place.fields["name"],
        "aliases": _aliases(place),
        "kind": place.fields["kind"],
        "country": place.fields.get("country"),
        "description": place.fields.get("description"),
    } | _common(place)


def event_doc(facts: Facts, event: Entity) -> dict[str, Any]:
    participants = []
    for link in event.links["participants"]:
        kind = link.extra["kind"]
        participants.append(
            {
                "id": link.target,
                "name": facts.name_of(kind, link.target),
                "kind": kind,
                "role": link.role,
                "certainty": link.certainty,
                "note": link.note,
            }
        )
    return {
        "id": event.id,
        "title": event.fields["title"],
        "kind": event.fields["kind"],
        "description": event.fields.get("description"),
        "date": event.fields["date"],
        "places": _links(facts, "place", event.links["places"]),
        "participants": participants,
    } | _common(event)


def quote_doc(facts: Facts, quote: Entity) -> dict[str, Any]:
    fields = quote.fields
    about = fields.get("about")
    return {
        "id": quote.id,
        "text": fields["text"],
        "speaker": _ref(facts, "person", fields["speaker"]),
        "speaker_description": fields["speaker_description"],
        "anonymous": fields["anonymous"],
        "addressee": fields["addressee"],
        "addressees": [
            {"id": ident, "name": facts.name_of(kind, ident), "kind": kind}
            for kind, ident in fields.get("addressees", [])
        ],
        "medium": fields["medium"],
        "outlet": _ref(facts, "unit", fields.get("outlet")),
        "event": _ref(facts, "event", fields.get("event")),
        "about": (
            None
            if about is None
            else {
                "text": about["text"],
                "kind": about["kind"],
                "id": about["id"],
                "name": facts.name_of(about["kind"], about["id"]) if about["id"] else None,
            }
        ),
        "article": fields["article"],
        "start": fields["start"],
        "end": fields["end"],
    } | _common(quote)


def figure_doc(facts: Facts, figure: Entity) -> dict[str, Any]:
    fields = figure.fields
    subject = fields["subject"]
    return {
        "id": figure.id,
        "text": fields["text"],
        "amount": fields["amount"],
        "lower": fields["lower"],
        "upper": fields["upper"],
        "qualifier": fields["qualifier"],
        "unit": fields["unit"],
        "counts": fields["counts"],
        "subject": None
        if subject is None
        else subject | {"name": facts.name_of(subject["kind"], subject["id"])},
        "article": fields["article"],
        "start": fields["start"],
        "end": fields["end"],
    } | _common(figure)


def article_doc(article: dict[str, Any], counts: dict[str, int]) -> dict[str, Any]:
    evidence = sorted(article["evidence"], key=lambda e: (e.start, e.field))
    return {key: value for key, value in article.items() if key != "evidence"} | {
        "counts": counts,
        "evidence": evidence,
    }


def _search_body(*parts: Any) -> str:
    """The searchable text of a record; it starts with the label, so a snippet can show the name."""
    return ". ".join(str(part).rstrip(".") for part in parts if part)


TABLES = len(TABLE_ORDER) - 1
"""How many tables `tables` yields: all but `dataset`, whose rows the loader writes last."""


PART = 20_000
"""Rows in a part of a table that `tables` yields before the table is complete (the largest ones)."""


class Part(NamedTuple):
    """Rows of one table. Most tables come whole; the largest come in parts as they are built, and the
    search entries kind by kind. `last` marks the part that completes a table."""

    table: str
    rows: list[Row]
    last: bool = True


def _search_rows(kind: str, start: int, entries: Sequence[tuple[str, str, str]]) -> list[Row]:
    """Search entries numbered from `start + 1`, from (id, label, body) in id order."""
    entry = ROW["search_entry"]
    return [
        entry(id=search_entry_id(start + n, kind), kind=kind, entity_id=ident, label=label, body=body)
        for n, (ident, label, body) in enumerate(entries, start=1)
    ]


def article_entries(articles: Sequence[tuple[str, str, str]]) -> Part:
    """The articles' search entries, from their (id, title, text) in id order: the first part `tables`
    yields (the articles are the first kind, numbered from 1). A loader can send them as soon as the
    articles are read, for their texts to be indexed while the facts are checked; `tables(facts, written)`
    then checks that they are the ones it would have yielded."""
    return Part("search_entry", _search_rows("article", 0, articles), last=False)


def tables(facts: Facts, written: Part | None = None) -> Iterator[Part]:
    """Every row of every table, in a deterministic order (same seeds, same database); each table as
    soon as it is complete, so the loader can write it and index it while the next ones are built, and
    each kind's search entries as soon as that kind's documents are built, so it can index their text
    while the next kinds are built. `written`: the articles' search entries, if a loader has written them
    already (`article_entries`)."""
    out: dict[str, list[Row]] = {name: [] for name in TABLE_ORDER if name != "search_entry"}
    line = {kind: line_writer(model) for kind, model in RECORD_MODELS.items()}  # each record's CSV line
    sent = dict.fromkeys(out, 0)  # how many of each table's rows were yielded before it was complete

    def ready(name: str) -> Iterator[Part]:
        """The rows of a large table built since its last part, once there are enough of them: the
        loader writes them while the rest of the table is built."""
        if len(out[name]) - sent[name] >= PART:
            yield Part(name, out[name][sent[name] :], last=False)
            sent[name] = len(out[name])

    def complete(*names: str) -> Iterator[Part]:
        for name in names:
            rows = out.pop(name)
            yield Part(name, rows[sent[name] :] if sent[name] else rows)

    # One search entry per record, numbered from 1 in (kind, id) order (search ranks ties so): a kind's
    # numbers are known from the number of records of the kinds before it.
    how_many = {"article": len(facts.articles)} | {
        kind: len(records) for kind, records in facts.entities.items()
    }
    first, counted = {}, 0
    for kind in sorted(how_many):
        first[kind], counted = counted, counted + how_many[kind]
    pending = set(how_many)
    numbered = dict.fromkeys(how_many, 0)

    def search_entries(kind: str, entries: list[tuple[str, str, str]], complete: bool = True) -> Part:
        """The search entries of the next records of `kind`, given in id order as (id, label, body); of
        all the rest of them when `complete`."""
        start, numbered[kind] = first[kind] + numbered[kind], numbered[kind] + len(entries)
        if complete:
            assert numbered[kind] == how_many[kind], f"{kind}: one search entry per record"
            pending.remove(kind)
        return Part("search_entry", _search_rows(kind, start, entries), last=not pending)

    # The articles' texts are most of the text a full-text index holds: their entries go first, to be
    # indexed while the other tables are built (or while the facts were checked, if already `written`).
    articles = search_entries(
        "article",
        [(ident, facts.articles[ident]["title"], facts.texts[ident]) for ident in sorted(facts.articles)],
    )
    if written is None:
        yield articles
    elif written.rows != articles.rows:
        raise ValueError("the articles' search entries written before the check differ from the dataset's")

    entities = facts.entities
    members: dict[str, list[dict[str, Any]]] = {ident: [] for ident in entities["unit"]}
    per_article: dict[str, dict[str, int]] = {ident: {} for ident in facts.articles}

    for kind in ("person", "unit", "place", "event", "quote", "figure"):
        for ident in sorted(entities[kind]):
            entity = entities[kind][ident]
            for article in entity.articles:
                out["mention"].append(ROW["mention"](kind=kind, entity_id=ident, article_id=article))
                counts = per_article[article]
                counts[kind] = counts.get(kind, 0) + 1
            for item in _evidence(entity):
                out["evidence"].append(
                    ROW["evidence"](
                        id=len(out["evidence"]) + 1,
                        kind=kind,
                        entity_id=ident,
                        field=item.field,
                        article_id=item.article,
                        start=item.start,
                        end=item.end,
                        text=item.text,
                        certainty=item.certainty,
                        note=item.note,
                    )
                )
            if kind in ("person", "unit", "place"):
                name = entity.fields["name"]
                out["name"].append(
                    ROW["name"](
                        id=len(out["name"]) + 1,
                        kind=kind,
                        entity_id=ident,
                        name=name,
                        folded=fold(name),
                        source="name",
                        lang=None,
                    )
                )
                for folded, alias in entity.aliases.items():
                    out["name"].append(
                        ROW["name"](
                            id=len(out["name"]) + 1,
                            kind=kind,
                            entity_id=ident,
                            name=alias["name"],
                            folded=folded,
                            source=alias["source"],
                            lang=alias["lang"],
                        )
                    )
            for link in entity.links["places"]:
                out["location"].append(
                    ROW["location"](
                        id=len(out["location"]) + 1,
                        kind=kind,
                        entity_id=ident,
                        place_id=link.target,
                        role=link.role,
                        certainty=link.certainty,
                    )
                )
            yield from ready("evidence")
            yield from ready("mention")
    yield from complete("mention", "evidence", "name", "location")

    # The quotes, the largest table and the slowest to build, next: the writing process builds their
    # indexes (seconds on a big corpus, and only once the table is complete) while the other tables are
    # built, instead of after the last of them (BENCH-HISTORY.md, sixteenth round).
    found: list[tuple[str, str, str]] = []  # (id, label, body) of each record, in id order
    for ident in sorted(entities["quote"]):
        doc = quote_doc(facts, entities["quote"][ident])
        out["quote"].append(
            ROW["quote"](
                id=ident,
                article_id=doc["article"],
                start=doc["start"],
                end=doc["end"],
                speaker_id=doc["speaker"]["id"] if doc["speaker"] else None,
                anonymous=doc["anonymous"],
                text=doc["text"],
                doc=_dump(doc),
                csv=line["quote"](doc),
            )
        )
        who = doc["speaker"]["name"] if doc["speaker"] else doc["speaker_description"]
        found.append((ident, f"{who}: “{_shorten(doc['text'])}”", doc["text"]))
        if len(found) == PART:
            yield from ready("quote")
            yield search_entries("quote", found, complete=False)
            found = []
    yield from complete("quote")
    yield search_entries("quote", found)

    for ident in sorted(facts.articles):
        doc = article_doc(facts.articles[ident], per_article[ident])
        text = facts.texts[ident]
        out["article"].append(
            ROW["article"](
                id=ident,
                title=doc["title"],
                author=doc["author"],
                outlet=doc["outlet"],
                language=doc["language"],
                published_start=doc["published"]["start"],
                published_end=doc["published"]["end"],
                length=doc["length"],
                sha256=doc["sha256"],
                text=text,
                doc=_dump(doc),
                csv=line["article"](doc),
            )
        )
    yield from complete("article")

    found = []
    for ident in sorted(entities["person"]):
        person = entities["person"][ident]
        for link in person.links["units"]:
            out["membership"].append(
                ROW["membership"](
                    id=len(out["membership"]) + 1,
                    person_id=ident,
                    unit_id=link.target,
                    role=link.role,
                    certainty=link.certainty,
                )
            )
            members[link.target].append(
                {
                    "id": ident,
                    "name": person.fields["name"],
                    "role": link.role,
                    "since": link.extra.get("since"),
                    "certainty": link.certainty,
                    "note": link.note,
                }
            )
        for link in person.links["relations"]:
            out["relation"].append(
                ROW["relation"](
                    id=len(out["relation"]) + 1,
                    person_id=ident,
                    other_id=link.target,
                    role=link.role,
                    certainty=link.certainty,
                )
            )
        doc = person_doc(facts, person)
        out["person"].append(
            ROW["person"](
                id=ident,
                name=doc["name"],
                sort_name=fold(doc["name"]),
                nationality=doc["nationality"],
                age=doc["age"],
                doc=_dump(doc),
                csv=line["person"](doc),
            )
        )
        aliases = " ".join(a["name"] for a in doc["aliases"])
        found.append((ident, doc["name"], _search_body(doc["name"], doc["description"], aliases)))
    yield from complete("membership", "relation", "person")
    yield search_entries("person", found)

    sizes = _sizes(facts)
    found = []
    for ident in sorted(entities["unit"]):
        unit = entities["unit"][ident]
        doc = unit_doc(facts, unit, members[ident], sizes.get(ident))
        out["unit"].append(
            ROW["unit"](
                id=ident,
                name=doc["name"],
                sort_name=fold(doc["name"]),
                kind=doc["kind"],
                country=doc["country"],
                side=doc["side"],
                doc=_dump(doc),
                csv=line["unit"](doc),
            )
        )
        aliases = " ".join(a["name"] for a in doc["aliases"])
        named = doc["named_after"]["text"] if doc["named_after"] else None
        found.append((ident, doc["name"], _search_body(doc["name"], doc["description"], aliases, named)))
    yield from complete("unit")
    yield search_entries("unit", found)

    found = []
    for ident in sorted(entities["place"]):
        doc = place_doc(entities["place"][ident])
        out["place"].append(
            ROW["place"](
                id=ident,
                name=doc["name"],
                sort_name=fold(doc["name"]),
                kind=doc["kind"],
                country=doc["country"],
                doc=_dump(doc),
                csv=line["place"](doc),
            )
        )
        aliases = " ".join(a["name"] for a in doc["aliases"])
        found.append((ident, doc["name"], _search_body(doc["name"], doc["description"], aliases)))
    yield from complete("place")
    yield search_entries("place", found)

    found = []
    for ident in sorted(entities["event"]):
        event = entities["event"][ident]
        for link in event.links["participants"]:
            out["participation"].append(
                ROW["participation"](
                    id=len(out["participation"]) + 1,
                    event_id=ident,
                    participant_kind=link.extra["kind"],
                    participant_id=link.target,
                    role=link.role,
                    certainty=link.certainty,
                )
            )
        doc = event_doc(facts, event)
        out["event"].append(
            ROW["event"](
                id=ident,
                title=doc["title"],
                sort_title=fold(doc["title"]),
                kind=doc["kind"],
                date_start=doc["date"]["start"],
                date_end=doc["date"]["end"],
                doc=_dump(doc),
                csv=line["event"](doc),
            )
        )
        found.append(
            (
                ident,
                doc["title"],
                _search_body(doc["title"], doc["description"], doc["date"]["text"]),
            )
        )
    yield from complete("participation", "event")
    yield search_entries("event", found)

    found = []
    for ident in sorted(entities["figure"]):
        doc = figure_doc(facts, entities["figure"][ident])
        subject = doc["subject"]
        out["figure"].append(
            ROW["figure"](
                id=ident,
                article_id=doc["article"],
                start=doc["start"],
                end=doc["end"],
                qualifier=doc["qualifier"],
                amount=doc["amount"],
                subject_kind=subject["kind"] if subject else None,
                subject_id=subject["id"] if subject else None,
                doc=_dump(doc),
                csv=line["figure"](doc),
            )
        )
        found.append((ident, f"{doc['text']} {doc['unit'] or ''}".strip(), doc["counts"]))
    yield from complete("figure")
    yield search_entries("figure", found)

    assert list(out) == ["dataset"], f"tables built but not yielded: {list(out)}"


def _shorten(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 1].rsplit(" ", 1)[0] + "…"


FACET_LIMIT = 100


def stats(facts: Facts) -> dict[str, Any]:
    """Facet counts for /stats, computed at load time so the endpoint costs nothing per request."""

    def tally(values: list[str | None]) -> dict[str, int]:
        """Counts per value, largest first, at most FACET_LIMIT of them (a facet is an overview)."""
        counts: dict[str, int] = {}
        for value in values:
            key = value or "unknown"
            counts[key] = counts.get(key, 0) + 1
        return dict(sorted(counts.items(), key=lambda item: (-item[1], item[0]))[:FACET_LIMIT])

    entities = facts.entities
    speakers = tally([q.fields["speaker"] for q in entities["quote"].values()])
    return {
        "people_by_nationality": tally([p.fields.get("nationality") for p in entities["person"].values()]),
        "quotes_by_speaker": [
            {
                "id": None if ident == "unknown" else ident,
                "name": None if ident == "unknown" else facts.name_of("person", ident),
                "count": count,
            }
            for ident, count in speakers.items()
        ],
        "events_by_year": dict(
            sorted(
                tally(
                    [(e.fields["date"]["start"] or "")[:4] or None for e in entities["event"].values()]
                ).items()
            )
        ),
        "units_by_country": tally([u.fields.get("country") for u in entities["unit"].values()]),
    }
