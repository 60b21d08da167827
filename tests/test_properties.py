"""Properties that hold for any input (Hypothesis): paging, sorting, name matching and formats."""

from __future__ import annotations

import csv
import io
import itertools
import unicodedata
from typing import Any

import httpx
import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.folding import fold

pytestmark = pytest.mark.anyio
SETTINGS = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)

FILTERS = {
    "/people": {
        "nationality": ["belarusian", "russian", "belarusian,russian", "american", "nobody"],
        "unit": ["kastus-kalinouski-battalion", "freedom-for-russia-legion,three-russian-defectors"],
        "min_age": ["0", "35", "50"],
        "article": ["belarusian-russian-volunteers-ukraine-2022", "test-fixture-article"],
        "name": ["a", "ko", "putin", "kiev"],
    },
    "/units": {
        "country": ["belarus", "russia", "ukraine,germany"],
        "kind": ["military-unit", "government,state"],
        "place": ["kyiv", "odessa,lutsk"],
    },
    "/events": {
        "year": ["2014", "2022", "1863,2020"],
        "from": ["2015-03-01", "2022-04-01"],
        "participant": ["kastus-kalinouski-battalion", "vladimir-putin"],
    },
    "/quotes": {
        "speaker": ["pavel-kulazhanka", "franak-viacorka,julie-fischer"],
        "anonymous": ["true", "false"],
        "q": ["belarus", "putin", "the"],
    },
    "/places": {"kind": ["city", "country"], "country": ["ukraine", "russia"]},
    "/figures": {"qualifier": ["exact", "approximate,more-than"]},
}
SORTS = {
    "/people": ["name", "-name", "age", "-age,name", "nationality,-age"],
    "/units": ["name", "-country,name", "kind"],
    "/events": ["date", "-date", "title", "kind,-date"],
    "/quotes": ["position", "-speaker", "speaker,-position"],
    "/places": ["name", "-kind,country"],
    "/figures": ["position", "-amount", "qualifier,amount"],
}


@st.composite
def list_queries(draw: Any) -> tuple[str, dict[str, str]]:
    path = draw(st.sampled_from(sorted(FILTERS)))
    names = draw(st.sets(st.sampled_from(sorted(FILTERS[path])), max_size=2))
    query = {name: draw(st.sampled_from(FILTERS[path][name])) for name in names}
    if draw(st.booleans()):
        query["sort"] = draw(st.sampled_from(SORTS[path]))
    return path, query


async def _all(client: httpx.AsyncClient, path: str, query: dict[str, str]) -> dict[str, Any]:
    response = await client.get(path, params=query | {"limit": "500"})
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


@SETTINGS
@given(request=list_queries(), limit=st.integers(min_value=1, max_value=7), use_offsets=st.booleans())
async def test_paging_through_any_filter_gives_the_unpaged_result(
    client: httpx.AsyncClient, request: tuple[str, dict[str, str]], limit: int, use_offsets: bool
) -> None:
    path, query = request
    whole = await _all(client, path, query)
    expected = [item["id"] for item in whole["items"]]
    seen: list[str] = []
    url: str | None = str(httpx.URL(path, params=query | {"limit": str(limit)}))
    while url:
        page = (await client.get(url)).json()
        assert page["total"] == whole["total"] == len(expected)
        assert len(page["items"]) <= limit
        seen += [item["id"] for item in page["items"]]
        if use_offsets and page["next"]:
            url = str(httpx.URL(path, params=query | {"limit": str(limit), "offset": str(len(seen))}))
        else:
            url = page["next"]
    assert seen == expected
    assert len(set(seen)) == len(seen)


def _sort_key(field: str) -> Any:
    """The value an item is sorted by for a sort field, as the API compares it."""

    def key(item: dict[str, Any]) -> Any:
        if field == "position":
            return (item["article"], item["start"])
        if field == "date":
            return item["date"]["start"]
        if field == "speaker":
            return (item["speaker"] or {}).get("id")
        value = item[field]
        return fold(value) if field in ("name", "title") else value

    return key


@SETTINGS
@given(request=list_queries())
async def test_sorting_is_stable_with_unknowns_last_and_ties_by_id(
    client: httpx.AsyncClient, request: tuple[str, dict[str, str]]
) -> None:
    path, query = request
    first = await _all(client, path, query)
    assert first == await _all(client, path, query)
    sort = query.get("sort")
    if not sort or "," in sort:
        return
    key, descending = _sort_key(sort.removeprefix("-")), sort.startswith("-")
    values = [(key(item), item["id"]) for item in first["items"]]
    known = [(v, i) for v, i in values if v is not None]
    assert values[: len(known)] == known  # unknown values sort last, either way
    for (a, id_a), (b, id_b) in itertools.pairwise(known):
        if a == b:
            assert id_a < id_b
        elif descending:
            assert a > b
        else:
            assert a < b


NAMES = {
    "pavel-kulazhanka": ["Pavel Kulazhanka", "Kulazhanka"],
    "franak-viacorka": ["Franak Viacorka", "Franak Viačorka", "Franak Viachorka", "Франак Вячорка"],
    "svetlana-tichanovskaya": [
        "Svetlana Tichanovskaya",
        "Sviatlana Tsikhanouskaya",
        "Swetlana Tichanowskaja",
    ],
    "alexander-lukashenko": ["Alexander Lukashenko", "Aliaksandr Lukashenka", "Александр Лукашенко"],
    "ilya-ponomarev": ["Ilya Ponomarev", "Илья Пономарёв", "Ilja Ponomarjow"],
}


def _vary(text: str, data: Any) -> str:
    """The same name as a person might type it: any case per letter, accents stripped or decomposed."""
    out = []
    for char in text:
        char = char.upper() if data.draw(st.booleans()) else char.lower()
        form = data.draw(st.sampled_from(["NFC", "NFD", "strip"]))
        if form == "strip":
            char = "".join(c for c in unicodedata.normalize("NFD", char) if not unicodedata.combining(c))
        else:
            char = unicodedata.normalize(form, char)
        out.append(char)
    return "".join(out)


@SETTINGS
@given(person=st.sampled_from(sorted(NAMES)), data=st.data())
async def test_name_matching_ignores_case_accents_and_which_alias(
    client: httpx.AsyncClient, person: str, data: Any
) -> None:
    name = data.draw(st.sampled_from(NAMES[person]))
    typed = _vary(name, data)
    start = data.draw(st.integers(min_value=0, max_value=max(0, len(typed) - 4)))
    part = typed[start : start + data.draw(st.integers(min_value=4, max_value=len(typed)))]
    found = [item["id"] for item in (await _all(client, "/people", {"name": part}))["items"]]
    assert person in found


@SETTINGS
@given(request=list_queries())
async def test_csv_and_json_carry_the_same_rows(
    client: httpx.AsyncClient, request: tuple[str, dict[str, str]]
) -> None:
    path, query = request
    json_items = (await _all(client, path, query))["items"]
    response = await client.get(path, params=query | {"limit": "500", "format": "csv"})
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert [row["id"] for row in rows] == [item["id"] for item in json_items]
    for row, item in zip(rows, json_items, strict=True):
        for key, value in item.items():
            if isinstance(value, str):
                assert row[key] == value
            elif isinstance(value, int) and not isinstance(value, bool):
                assert row[key] == str(value)
    ndjson = await client.get(path, params=query | {"limit": "500", "format": "ndjson"})
    assert [orjson.loads(line) for line in ndjson.text.splitlines()] == json_items
