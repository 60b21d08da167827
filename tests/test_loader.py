"""The loader: seeds in, database out — every fact round-trips, every span is exact, bad input is refused
with a message that says what to fix, and the previous database survives any failure."""

from __future__ import annotations

import contextlib
import csv
import fcntl
import io
import logging
import os
import pty
import sqlite3
import struct
import subprocess
import sys
import termios
from pathlib import Path
from typing import Any

import orjson
import pytest
import yaml
from sqlalchemy import create_engine, pool

from app import documents, loader, schemas
from app.cli import main, needs_load
from app.dataset import build_dataset, seeds_version
from app.loader import LoadError, _checkpoint, _vacuum, load
from app.revision import SCHEMA_REVISION
from app.schemas import RECORD_MODELS
from app.seed_files import SeedErrors
from app.settings import PROJECT_DIR, load_settings
from app.sqlite_writer import PAGE_SIZE
from app.tabular import csv_header, line_writer
from bench.corpus import generate
from tests.conftest import ARTICLE, REAL_SEEDS, copy_seeds

FACTS = REAL_SEEDS / ARTICLE / "facts.yaml"


def _facts() -> dict[str, Any]:
    return yaml.safe_load(FACTS.read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def _db(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(f"file:{path}?mode=ro", uri=True)


def _docs(path: Path, table: str) -> dict[str, dict[str, Any]]:
    with _db(path) as connection:
        return {row[0]: orjson.loads(row[1]) for row in connection.execute(f"SELECT id, doc FROM {table}")}


@pytest.fixture(scope="module")
def real_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("real") / "real.db"
    load(load_settings(database_url=f"sqlite:///{path}", seeds_dir=REAL_SEEDS))
    return path


def test_every_record_and_field_of_the_seed_file_comes_back_out(real_db: Path) -> None:
    facts = _facts()
    people, units, places = _docs(real_db, "person"), _docs(real_db, "unit"), _docs(real_db, "place")
    events, quotes, figures = _docs(real_db, "event"), _docs(real_db, "quote"), _docs(real_db, "figure")
    assert set(people) == {p["id"] for p in facts["people"]}
    for seed in facts["people"]:
        doc = people[seed["id"]]
        assert doc["name"] == seed["name"]
        assert doc["description"] == seed.get("description")
        assert doc["age"] == (seed["age"]["value"] if "age" in seed else None)
        assert doc["nationality"] == (seed["nationality"]["value"] if "nationality" in seed else None)
        assert [a["name"] for a in doc["aliases"]] == [a["name"] for a in seed.get("aliases", [])]
        assert [(u["id"], u["role"]) for u in doc["units"]] == [
            (m["unit"], m["role"]) for m in seed.get("memberships", [])
        ]
        assert [(r["id"], r["role"]) for r in doc["relations"]] == [
            (r["person"], r["role"]) for r in seed.get("relations", [])
        ]
        assert [(p["id"], p["role"]) for p in doc["places"]] == [
            (p["place"], p["role"]) for p in seed.get("places", [])
        ]
        assert doc["certainty"] == seed.get("certainty", "stated")
    for seed in facts["units"]:
        doc = units[seed["id"]]
        assert (doc["name"], doc["kind"], doc["description"]) == (
            seed["name"],
            seed["kind"],
            seed["description"],
        )
        assert doc["country"] == (seed["country"]["value"] if "country" in seed else None)
        assert doc["side"] == (seed["side"]["value"] if "side" in seed else None)
        assert (doc["named_after"] or {}).get("text") == seed.get("named_after", {}).get("text")
        assert [a["name"] for a in doc["aliases"]] == [a["name"] for a in seed.get("aliases", [])]
        assert [p["id"] for p in doc["places"]] == [p["place"] for p in seed.get("places", [])]
    for seed in facts["places"]:
        doc = places[seed["id"]]
        assert (doc["name"], doc["kind"], doc["country"]) == (seed["name"], seed["kind"], seed["country"])
        assert [a["name"] for a in doc["aliases"]] == [a["name"] for a in seed.get("aliases", [])]
    for seed in facts["events"]:
        doc = events[seed["id"]]
        assert (doc["title"], doc["kind"], doc["description"]) == (
            seed["title"],
            seed["kind"],
            seed["description"],
        )
        assert doc["date"]["text"] == seed.get("date", {}).get("text")
        assert [(p["id"], p["role"]) for p in doc["participants"]] == [
            (p.get("person") or p.get("unit"), p["role"]) for p in seed.get("participants", [])
        ]
        assert [p["id"] for p in doc["places"]] == [p["place"] for p in seed.get("places", [])]
    for seed in facts["quotes"]:
        doc = quotes[seed["id"]]
        assert doc["text"] == seed["text"]
        assert (doc["speaker"] or {}).get("id") == seed["speaker"].get("person")
        assert doc["anonymous"] == seed["speaker"].get("anonymous", False)
        assert doc["speaker_description"] == seed["speaker"].get("description")
        assert doc["medium"] == seed.get("medium", {}).get("text")
        assert doc["addressee"] == seed.get("addressee", {}).get("text")
        assert (doc["event"] or {}).get("id") == seed.get("occasion", {}).get("event")
    for seed in facts["figures"]:
        doc = figures[seed["id"]]
        for key in ("text", "amount", "lower", "upper", "qualifier", "unit", "counts"):
            assert doc[key] == seed.get(key), (seed["id"], key)


def test_every_stored_span_slices_the_text_to_its_snippet(real_db: Path) -> None:
    text = (REAL_SEEDS / ARTICLE / "article.txt").read_text(encoding="utf-8")
    with _db(real_db) as connection:
        rows = connection.execute('SELECT kind, entity_id, start, "end", text FROM evidence').fetchall()
        stored_text = connection.execute("SELECT text FROM article").fetchone()[0]
    assert stored_text == text
    assert len(rows) > 200
    for kind, ident, start, end, snippet in rows:
        assert text[start:end] == snippet, (kind, ident)


def test_each_record_stores_the_csv_line_its_document_makes(real_db: Path) -> None:
    """The stored line (what a CSV page is joined from) is the one made from the stored JSON, so the two
    formats cannot drift apart; spot-checked against the article's own words."""
    with _db(real_db) as connection:
        for kind, model in RECORD_MODELS.items():
            line = line_writer(model)
            rows = connection.execute(f"SELECT doc, csv FROM {kind}").fetchall()
            assert rows, kind
            for doc, stored in rows:
                assert stored == line(orjson.loads(doc)), kind
        (stored,) = connection.execute(
            "SELECT csv FROM quote WHERE id = 'fischer-majority-against-war'"
        ).fetchone()
    row = next(csv.DictReader(io.StringIO(csv_header(schemas.Quote).decode() + stored.decode())))
    assert row["speaker.id"] == "julie-fischer"
    assert row["text"].endswith("Putin’s war in Ukraine.")
    evidence = {item["text"] for item in orjson.loads(row["evidence"])}  # the cell is the JSON list
    assert {row["text"], "the US special representative in Minsk, Julie Fischer, explains"} <= evidence


def test_the_file_is_written_in_16_kib_pages_and_is_sound(real_db: Path) -> None:
    """Large pages are a reading choice (index entries of ~1 kB fit in them: BENCH-HISTORY.md); the file
    must still be one SQLite checks clean, its indexes included: Julie Fischer's quote by its speaker."""
    with _db(real_db) as connection:
        assert connection.execute("PRAGMA page_size").fetchone() == (PAGE_SIZE,) == (16_384,)
        assert connection.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        quotes = connection.execute("SELECT id FROM quote WHERE speaker_id = 'julie-fischer'").fetchall()
    assert quotes == [("fischer-majority-against-war",)]


def test_offsets_count_code_points_not_bytes(real_db: Path) -> None:
    quote = _docs(real_db, "quote")["fischer-majority-against-war"]
    text = (REAL_SEEDS / ARTICLE / "article.txt").read_text(encoding="utf-8")
    assert text[quote["start"] : quote["end"]].endswith("Putin’s war in Ukraine.")
    assert len(text.encode()[: quote["start"]].decode(errors="ignore")) < quote["start"]


def test_loading_the_same_seeds_twice_gives_the_same_content(tmp_path: Path) -> None:
    contents = []
    for name in ("one.db", "two.db"):
        load(load_settings(database_url=f"sqlite:///{tmp_path / name}", seeds_dir=REAL_SEEDS))
        with _db(tmp_path / name) as connection:
            tables = [
                r[0]
                for r in connection.execute(
                    "SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '%fts%' AND name NOT LIKE '%trigram%' ORDER BY name"
                )
            ]
            contents.append(
                {t: connection.execute(f"SELECT * FROM {t} ORDER BY 1").fetchall() for t in tables}
            )
    assert contents[0] == contents[1]
    assert contents[0]["person"]


def test_a_load_under_pythons_debug_allocator_writes_the_same_database(real_db: Path, tmp_path: Path) -> None:
    """The debug allocator overwrites memory as it frees it: code that reads an object after letting go
    of it reads garbage or crashes, where the ordinary allocator often leaves the old value in place. A
    compiled EvidenceItem once made orjson do that with its offsets; loaded so, in both processes, the
    real article must give the same database, Julie Fischer's quote at its place."""
    target = tmp_path / "debug.db"
    arguments = ["load", "--quiet", "--seeds", str(REAL_SEEDS), "--database-url", f"sqlite:///{target}"]
    result = subprocess.run(
        [sys.executable, "-X", "faulthandler", "-m", "app", *arguments],
        env={**os.environ, "PYTHONMALLOC": "pymalloc_debug"},
        cwd=PROJECT_DIR,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    for table in (*RECORD_MODELS, "article"):
        assert _docs(target, table) == _docs(real_db, table), table
    evidence = "SELECT * FROM evidence ORDER BY id"
    with _db(target) as debug, _db(real_db) as ordinary:
        assert debug.execute(evidence).fetchall() == ordinary.execute(evidence).fetchall()
    quote = _docs(target, "quote")["fischer-majority-against-war"]
    text = (REAL_SEEDS / ARTICLE / "article.txt").read_text(encoding="utf-8")
    assert text[quote["start"] : quote["end"]] == quote["text"]
    assert [text[e["start"] : e["end"]] for e in quote["evidence"]] == [
        "the US special representative in Minsk, Julie Fischer, explains",
        quote["text"],
    ]


def test_the_full_text_indexes_hold_every_entry_filled_as_the_tables_are_written(tmp_path: Path) -> None:
    """The writer feeds the indexes batch by batch, kind by kind (the articles first): they must come out
    consistent with their tables, and the entries numbered in (kind, id) order, as one rebuild would."""
    load(load_settings(database_url=f"sqlite:///{tmp_path / 'two.db'}", seeds_dir=copy_seeds(tmp_path / "s")))
    # A writable connection: a check is an INSERT that writes nothing.
    with sqlite3.connect(tmp_path / "two.db") as connection:
        for index in ("search_fts", "name_trigram"):  # rank 1: checked against the content table too
            connection.execute(f"INSERT INTO {index}({index}, rank) VALUES ('integrity-check', 1)")
        entries = connection.execute("SELECT kind, entity_id FROM search_entry ORDER BY id").fetchall()
        records = [
            (kind, ident)
            for kind in ("article", "event", "figure", "person", "place", "quote", "unit")
            for (ident,) in connection.execute(f"SELECT id FROM {kind} ORDER BY id")
        ]
        assert entries == records  # one entry per record, numbered in (kind, id) order
        in_texts = connection.execute(
            "SELECT s.entity_id FROM search_fts JOIN search_entry s ON s.id = search_fts.rowid "
            "WHERE search_fts MATCH 'body : bucha' AND s.kind = 'article'"
        ).fetchall()
        assert in_texts == [(ARTICLE,)]  # the fixture article does not mention Bucha
        named = connection.execute(
            "SELECT DISTINCT n.entity_id FROM name_trigram JOIN name n ON n.id = name_trigram.rowid "
            "WHERE name_trigram MATCH 'lukash' ORDER BY 1"
        ).fetchall()
        assert named == [("alexander-lukashenko",), ("lukashenko-regime",)]


def test_a_fixture_article_loads_beside_the_real_one_without_code(tmp_path: Path) -> None:
    dataset = build_dataset(copy_seeds(tmp_path / "seeds"))
    assert set(dataset.facts.articles) == {ARTICLE, "test-fixture-article"}
    putin = dataset.facts.entities["person"]["vladimir-putin"]
    assert putin.articles == [ARTICLE, "test-fixture-article"]


def test_the_dataset_version_hashes_every_file_of_every_article_folder(tmp_path: Path) -> None:
    seeds = copy_seeds(tmp_path / "seeds")
    version = build_dataset(seeds).version
    assert version == seeds_version(seeds)  # the load reuses the hashes of the files it read
    (seeds / ARTICLE / "notes.md").write_text("a file the loader does not read\n", encoding="utf-8")
    assert build_dataset(seeds).version == seeds_version(seeds) != version


def test_a_facts_file_with_windows_line_ends_loads_the_same(tmp_path: Path) -> None:
    seeds = copy_seeds(tmp_path / "seeds")
    before = build_dataset(seeds).facts.entities["quote"]
    path = seeds / ARTICLE / "facts.yaml"
    path.write_bytes(path.read_bytes().replace(b"\n", b"\r\n"))
    after = build_dataset(seeds).facts.entities["quote"]
    assert [q.fields for q in after.values()] == [q.fields for q in before.values()]
    assert any("Putin" in q.fields["text"] for q in after.values())


# -- bad input ---------------------------------------------------------------------------------------


def _break(seeds: Path, edit: Any) -> Path:
    path = seeds / ARTICLE / "facts.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    edit(data)
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def _person(data: dict[str, Any], ident: str) -> dict[str, Any]:
    return next(p for p in data["people"] if p["id"] == ident)


def _errors(seeds: Path) -> list[str]:
    with pytest.raises(SeedErrors) as caught:
        build_dataset(seeds)
    return [str(error) for error in caught.value.errors]


SHOWN = f"seeds/{ARTICLE}/facts.yaml"


def test_unknown_field_is_named_with_record_and_field(tmp_seeds: Path) -> None:
    _break(tmp_seeds, lambda d: _person(d, "pavel-kulazhanka").update(agee=36))
    assert _errors(tmp_seeds) == [
        f"{SHOWN}: person `pavel-kulazhanka`, field `agee`: unknown field; check its spelling against "
        "seeds/facts.schema.json"
    ]


def test_missing_required_field(tmp_seeds: Path) -> None:
    _break(tmp_seeds, lambda d: _person(d, "julie-fischer").pop("name"))
    assert _errors(tmp_seeds) == [f"{SHOWN}: person `julie-fischer`, field `name`: required field is missing"]


def test_wrong_type(tmp_seeds: Path) -> None:
    _break(tmp_seeds, lambda d: _person(d, "pavel-kulazhanka")["age"].update(value="thirty-six"))
    (error,) = _errors(tmp_seeds)
    assert error.startswith(
        f"{SHOWN}: person `pavel-kulazhanka`, field `age.value`: Input should be a valid integer"
    )


def test_dangling_reference(tmp_seeds: Path) -> None:
    _break(
        tmp_seeds, lambda d: _person(d, "pavel-kulazhanka")["memberships"][0].update(unit="kastus-battalion")
    )
    assert _errors(tmp_seeds) == [
        f"{SHOWN}: person `pavel-kulazhanka`, field `memberships[0].unit`: no unit `kastus-battalion` in any facts file"
    ]


def test_duplicate_id(tmp_seeds: Path) -> None:
    def duplicate(data: dict[str, Any]) -> None:
        data["places"].append(dict(data["places"][0]))

    (error,) = _errors(_break(tmp_seeds, duplicate).parent.parent)
    assert "id `ukraine` is used twice (places[0] and places[17]); ids must be unique" in error


def test_snippet_not_in_the_text(tmp_seeds: Path) -> None:
    _break(
        tmp_seeds, lambda d: _person(d, "pavel-kulazhanka")["age"].update(evidence="Pavel Kulazhanka (37)")
    )
    assert _errors(tmp_seeds) == [
        f"{SHOWN}: person `pavel-kulazhanka`, field `age`: snippet 'Pavel Kulazhanka (37)' is not in the article "
        "text (copy it exactly, quotes included)"
    ]


def test_ambiguous_snippet_and_how_to_pick_one(tmp_seeds: Path) -> None:
    _break(tmp_seeds, lambda d: _person(d, "ilya-ponomarev")["places"][0].update(evidence="Kyiv"))
    assert _errors(tmp_seeds) == [
        f"{SHOWN}: person `ilya-ponomarev`, field `places`: snippet 'Kyiv' occurs 4 times; say which with "
        "`occurrence`, `prefix` or `suffix`, or quote more of the sentence"
    ]
    _break(
        tmp_seeds,
        lambda d: _person(d, "ilya-ponomarev")["places"][0].update(
            evidence={"text": "Kyiv", "prefix": "now lives in "}
        ),
    )
    place = build_dataset(tmp_seeds).facts.entities["person"]["ilya-ponomarev"].evidence
    assert [(e.text, e.field) for e in place if e.field == "places"] == [("Kyiv", "places")]


def test_every_error_is_reported_at_once(tmp_seeds: Path) -> None:
    def several(data: dict[str, Any]) -> None:
        _person(data, "pavel-kulazhanka")["memberships"][0]["unit"] = "no-such-unit"
        _person(data, "vladimir-putin")["age"]["evidence"] = "not in the text"
        data["quotes"][0]["speaker"]["person"] = "no-such-person"

    _break(tmp_seeds, several)
    errors = _errors(tmp_seeds)
    assert len(errors) == 3
    assert any("no unit `no-such-unit`" in e for e in errors)
    assert any("no person `no-such-person`" in e for e in errors)
    assert any("'not in the text' is not in the article text" in e for e in errors)


def test_errors_in_several_files_are_all_reported_whatever_part_of_the_file_they_are_in(
    tmp_path: Path,
) -> None:
    """Files are read first (their `article` part validated, to order them by publication) and checked
    whole afterwards: a problem is reported wherever it is, in every file at once."""
    seeds = copy_seeds(tmp_path / "seeds")
    real = seeds / ARTICLE / "facts.yaml"
    data = yaml.safe_load(real.read_text(encoding="utf-8"))
    data["article"]["published"]["start"] = "2022-13"  # no such month
    data["people"][0]["agee"] = 36
    real.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    fixture = seeds / "test-fixture-article" / "facts.yaml"
    data = yaml.safe_load(fixture.read_text(encoding="utf-8"))
    data["quotes"][0]["speaker"]["person"] = "no-such-person"
    fixture.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    errors = _errors(seeds)
    assert any(
        f"{ARTICLE}/facts.yaml" in e and "published.start" in e and "not a real date" in e for e in errors
    )
    assert any(f"{ARTICLE}/facts.yaml" in e and "agee" in e and "unknown field" in e for e in errors)
    assert any("test-fixture-article" in e and "no person `no-such-person`" in e for e in errors)


def test_malformed_yaml_names_the_line(tmp_seeds: Path) -> None:
    path = tmp_seeds / ARTICLE / "facts.yaml"
    lines = path.read_text(encoding="utf-8").splitlines()
    lines[60] = lines[60] + " : :"
    path.write_text("\n".join(lines), encoding="utf-8")
    (error,) = _errors(tmp_seeds)
    assert error.startswith(f"{SHOWN}: invalid YAML at line 61")


def test_duplicate_yaml_key_is_an_error_not_a_silent_overwrite(tmp_seeds: Path) -> None:
    path = tmp_seeds / ARTICLE / "facts.yaml"
    text = path.read_text(encoding="utf-8").replace(
        "    name: Pavel Kulazhanka\n", "    name: Pavel Kulazhanka\n    name: Someone Else\n", 1
    )
    path.write_text(text, encoding="utf-8")
    (error,) = _errors(tmp_seeds)
    assert "key 'name' appears twice in one mapping" in error


def test_inferred_fact_without_a_reason_is_refused(tmp_seeds: Path) -> None:
    _break(tmp_seeds, lambda d: _person(d, "pavel-kulazhanka")["nationality"].pop("note"))
    (error,) = _errors(tmp_seeds)
    assert "field `nationality`: an inferred fact needs a `note` that says why" in error


def test_edited_source_text_is_refused(tmp_seeds: Path) -> None:
    text = tmp_seeds / ARTICLE / "article.txt"
    text.write_bytes(text.read_bytes() + b"\n")
    (error,) = _errors(tmp_seeds)
    assert "must stay byte for byte as received" in error


def test_the_articles_entries_made_as_they_are_read_are_the_ones_the_tables_start_with(
    tmp_path: Path,
) -> None:
    """A load sends the articles' search entries to be indexed as soon as every article is read, before
    the facts are checked: made from the articles as read, they must be the very part the tables would
    have started with, and the tables then go on without them, row for row as they would have."""
    early: list[documents.Part] = []
    dataset = build_dataset(generate(tmp_path / "seeds", 6), articles_read=early.append)
    (sent,) = early
    rows: list[Any] = sent.rows  # named tuples
    assert [(row.kind, row.entity_id, row.body) for row in rows] == [
        ("article", ident, dataset.facts.texts[ident]) for ident in sorted(dataset.facts.articles)
    ]
    whole = [(part.table, part.rows) for part in documents.tables(dataset.facts)]
    rest = [(part.table, part.rows) for part in documents.tables(dataset.facts, sent)]
    assert whole[0] == (sent.table, sent.rows) and whole[1:] == rest

    retitled = sent._replace(rows=[rows[0]._replace(label="Another title"), *rows[1:]])
    with pytest.raises(ValueError, match="written before the check differ"):
        list(documents.tables(dataset.facts, retitled))
    early.clear()
    (tmp_path / "seeds" / "unreadable").mkdir()  # an article that cannot be read: nothing is sent
    with pytest.raises(SeedErrors):
        build_dataset(tmp_path / "seeds", articles_read=early.append)
    assert early == []


def test_the_writer_gets_the_articles_texts_before_the_facts_are_checked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    stages: list[str] = ["started"]
    sent: list[tuple[str, set[str], str]] = []
    send_rows = loader._send_rows

    def record(writer: Any, table: str, rows: list[Any]) -> None:
        sent.append((table, {row.kind for row in rows} if table == "search_entry" else set(), stages[-1]))
        send_rows(writer, table, rows)

    monkeypatch.setattr(loader, "_send_rows", record)
    seeds = generate(tmp_path / "seeds", 4)
    settings = load_settings(database_url=f"sqlite:///{tmp_path / 'x.db'}", seeds_dir=seeds)
    load(settings, progress=lambda stage, done, total: stages.append(stage))
    assert sent[0] == ("search_entry", {"article"}, "reading articles")  # before any is checked
    assert ("search_entry", {"article"}) not in [(table, kinds) for table, kinds, _ in sent[1:]]
    assert all(stage in ("writing tables", "building indexes") for _, _, stage in sent[1:])
    with _db(tmp_path / "x.db") as connection:
        entries = connection.execute("SELECT entity_id FROM search_entry WHERE kind = 'article' ORDER BY id")
        assert entries.fetchall() == connection.execute("SELECT id FROM article ORDER BY id").fetchall()


def test_a_failed_load_leaves_the_previous_database_untouched(tmp_seeds: Path, tmp_path: Path) -> None:
    target = tmp_path / "data" / "newsfacts.db"
    settings = load_settings(database_url=f"sqlite:///{target}", seeds_dir=tmp_seeds)
    load(settings)
    before = target.read_bytes()
    _break(tmp_seeds, lambda d: _person(d, "pavel-kulazhanka").update(agee=36))
    with pytest.raises(SeedErrors):
        load(settings)
    assert target.read_bytes() == before
    assert [p.name for p in target.parent.iterdir() if "building" in p.name] == []


def test_a_folder_that_cannot_be_written_is_a_clear_message(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the database folder should be")
    settings = load_settings(database_url=f"sqlite:///{blocker}/newsfacts.db", seeds_dir=REAL_SEEDS)
    with pytest.raises(
        LoadError, match=r"^cannot write in .*not-a-folder.*The previous database is untouched"
    ):
        load(settings)


@pytest.mark.parametrize("unreadable", ["seeds folder", "article folder"])
def test_seeds_that_cannot_be_read_are_a_seed_error_not_a_write_error(
    unreadable: str, tmp_seeds: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The loader starts writing before the seeds are read: a folder it cannot read (permissions, which
    root, who runs these tests, ignores) must still be reported as the seeds' problem, naming the folder."""
    denied = tmp_seeds if unreadable == "seeds folder" else tmp_seeds / ARTICLE
    real_scandir, real_listdir = os.scandir, os.listdir

    def refuse(real: Any) -> Any:
        def call(path: Any) -> Any:
            if Path(path) == denied:
                raise PermissionError(13, "Permission denied", str(path))
            return real(path)

        return call

    monkeypatch.setattr("app.seed_files.os.scandir", refuse(real_scandir))
    monkeypatch.setattr("app.seed_files.os.listdir", refuse(real_listdir))
    target = tmp_path / "newsfacts.db"
    with pytest.raises(SeedErrors) as raised:
        load(load_settings(database_url=f"sqlite:///{target}", seeds_dir=tmp_seeds))
    (error,) = raised.value.errors
    assert error.path.endswith(denied.name) and error.message == "cannot read the folder: Permission denied"
    assert not target.exists() and [p.name for p in tmp_path.iterdir() if "building" in p.name] == []


# -- the command line ----------------------------------------------------------------------------------


def test_cli_check_writes_nothing_and_exits_zero(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "never.db"
    assert main(["check", "--seeds", str(REAL_SEEDS)]) == 0
    assert "seeds are valid" in capsys.readouterr().out
    assert not target.exists()


def test_cli_load_prints_counts(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["load", "--seeds", str(REAL_SEEDS), "--database-url", f"sqlite:///{tmp_path / 'x.db'}"]) == 0
    out, err = capsys.readouterr()
    assert "people            14" in out and "quotes            10" in out
    assert err == "", "no progress bar when stderr is not a terminal (a log file gets the summary only)"


def test_serve_rebuilds_a_database_of_other_seeds_or_of_an_older_schema_and_nothing_else(
    tmp_seeds: Path, tmp_path: Path
) -> None:
    """`python -m app serve` loads first when `needs_load` gives a reason: a database built by an older
    version (its schema revision, which the API would refuse) or from other seeds."""
    database = tmp_path / "served.db"
    settings = load_settings(database_url=f"sqlite:///{database}", seeds_dir=tmp_seeds)
    assert needs_load(settings) == f"no database at {database}"
    load(settings)
    assert needs_load(settings) is None
    with sqlite3.connect(database) as connection:
        connection.execute("UPDATE dataset SET value = '0002' WHERE key = 'revision'")
    assert needs_load(settings) == (
        f"it was built with schema revision 0002; this version of newsfacts reads {SCHEMA_REVISION}"
    )
    load(settings)
    assert needs_load(settings) is None
    (tmp_seeds / ARTICLE / "notes.md").write_text("a file added to the article's folder\n", encoding="utf-8")
    assert needs_load(settings) == "the seeds have changed since the last load"


def test_serving_imports_neither_the_loader_nor_the_orm_and_load_errors_are_still_reported(
    tmp_path: Path,
) -> None:
    """The server and its command line start without the loader's modules (SQLAlchemy's ORM, SQLModel,
    the seed files' models: a quarter of a second before `/health` answers); the command line still
    reports the loader's errors in one line, without a traceback."""
    loader_modules = (
        "app.loader",
        "app.models",
        "app.seed_files",
        "app.dataset",
        "sqlmodel",
        "sqlalchemy.orm",
    )
    # The command line as far as `serve` goes before uvicorn takes over (a port it refuses stops it
    # there), and the app a worker builds.
    serving = (
        "import sys, app.cli, app.main; app.cli.main(['serve', '--no-load', '--port', '99999999']); "
        f"print([module for module in {loader_modules} if module in sys.modules])"
    )
    done = subprocess.run([sys.executable, "-c", serving], capture_output=True, text=True, cwd=PROJECT_DIR)
    assert (done.stdout, done.stderr.splitlines()[0]) == ("[]\n", "invalid configuration:")
    (tmp_path / "seeds" / "an-article").mkdir(parents=True)
    (tmp_path / "seeds" / "an-article" / "facts.json").write_text("{}", encoding="utf-8")
    for command, expected in (
        (
            [
                "load",
                "--seeds",
                str(tmp_path / "seeds"),
                "--database-url",
                f"sqlite:///{tmp_path / 'new.db'}",
            ],
            "1 problem in the seeds; nothing was written:\n  seeds/an-article/facts.json: article: required field is missing",
        ),
        (["load", "--database-url", "sqlite:////proc/newsfacts.db"], "load failed: cannot write in /proc;"),
    ):
        done = subprocess.run(
            [sys.executable, "-m", "app", *command], capture_output=True, text=True, cwd=PROJECT_DIR
        )
        assert done.returncode == 1, done.stderr
        assert done.stderr.startswith(expected) and "Traceback" not in done.stderr, done.stderr


def test_a_relative_database_path_is_relative_to_where_the_load_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The file is written by a second process that runs in the project folder: it must still land here.
    monkeypatch.chdir(tmp_path)
    summary = load(load_settings(database_url="sqlite:///data/here.db", seeds_dir=REAL_SEEDS))
    with contextlib.closing(sqlite3.connect(tmp_path / "data" / "here.db")) as db:
        assert db.execute("SELECT count(*) FROM quote").fetchone() == (summary.counts["quote"],) == (10,)
    assert not (PROJECT_DIR / "data" / "here.db").exists()
    assert [p.name for p in (tmp_path / "data").iterdir() if "building" in p.name] == []


def test_load_reports_each_stage_to_the_end(tmp_path: Path) -> None:
    seen: dict[str, list[tuple[int, int]]] = {}
    load(
        load_settings(database_url=f"sqlite:///{tmp_path / 'x.db'}", seeds_dir=REAL_SEEDS),
        progress=lambda stage, done, total: seen.setdefault(stage, []).append((done, total)),
    )
    # Tables are written (and indexed, on a second thread) as they are built: one stage for both.
    stages = ["reading articles", "checking articles", "writing tables", "building indexes"]
    assert list(seen) == stages
    assert seen["reading articles"][-1] == (1, 1)  # one article folder
    for stage in stages:
        done = [d for d, _ in seen[stage]]
        assert done == sorted(done) and seen[stage][-1][0] == seen[stage][-1][1], stage


def test_a_failed_vacuum_or_checkpoint_after_a_committed_load_is_a_warning_not_a_failure(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # The rows are committed by the time the old ones are vacuumed: losing the server then must not turn
    # a load that succeeded into a reported failure.
    engine = create_engine("postgresql+psycopg://nobody@127.0.0.1:1/none", poolclass=pool.NullPool)
    with caplog.at_level(logging.WARNING, logger="newsfacts.loader"):
        _vacuum(engine, None)
    assert "the load is done, but clearing the old rows failed (autovacuum will)" in caplog.text
    with caplog.at_level(logging.WARNING, logger="newsfacts.loader"):
        _checkpoint(engine, "0/0", None)  # the same for the checkpoint that follows
    assert "the load is done, but the checkpoint after it failed" in caplog.text


def test_cli_load_on_a_terminal_shows_a_progress_bar(tmp_path: Path) -> None:
    controller, terminal = pty.openpty()
    fcntl.ioctl(
        terminal, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0)
    )  # 100 columns, as a terminal has
    command = [sys.executable, "-m", "app", "load", "--seeds", str(REAL_SEEDS)]
    command += ["--database-url", f"sqlite:///{tmp_path / 'x.db'}"]
    with subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=terminal, cwd=PROJECT_DIR) as process:
        os.close(terminal)
        shown = b""
        with contextlib.suppress(OSError):  # EIO once the process has exited and closed the terminal
            while chunk := os.read(controller, 65536):
                shown += chunk
        assert process.wait(timeout=60) == 0
    os.close(controller)
    for stage in (b"reading articles", b"checking articles", b"writing tables", b"building indexes"):
        assert stage + b":" in shown, stage
    assert shown.endswith(b"\r"), "each bar is cleared when its stage ends, leaving the summary alone"


def test_cli_reports_seed_errors_and_exits_one(
    tmp_seeds: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _break(
        tmp_seeds, lambda d: _person(d, "pavel-kulazhanka")["memberships"][0].update(unit="kastus-battalion")
    )
    code = main(["load", "--seeds", str(tmp_seeds), "--database-url", f"sqlite:///{tmp_path / 'x.db'}"])
    err = capsys.readouterr().err
    assert code == 1
    assert "1 problem in the seeds; nothing was written:" in err
    assert "person `pavel-kulazhanka`, field `memberships[0].unit`: no unit `kastus-battalion`" in err
    assert "Traceback" not in err
    assert not (tmp_path / "x.db").exists()


def test_cli_bad_configuration_names_the_variable(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DATABASE_URL", "mysql://nope")
    assert main(["check"]) == 2
    assert "DATABASE_URL='mysql://nope'" in capsys.readouterr().err


def test_schema_file_is_generated_from_the_models() -> None:
    assert main(["schema", "--check"]) == 0
