"""A deterministic synthetic corpus: article folders (text + facts.json) that the real loader loads.

The articles read like wire copy about volunteer units: people with ages and memberships, units with
sizes, places, a dated event, many quotes and a few figures. People, units and places are drawn from
pools shared across articles (as in a real archive), so filters such as `speaker=` match quotes from many
articles. Every snippet is a whole sentence that occurs once in its article, as the loader demands.
"""

from __future__ import annotations

import hashlib
import json
import random
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

GENERATOR_VERSION = "5"
FIRST = [
    "Aleksei",
    "Andrei",
    "Anna",
    "Artem",
    "Darya",
    "Dmitri",
    "Elena",
    "Fedor",
    "Galina",
    "Hanna",
    "Igor",
    "Ilya",
    "Irina",
    "Kastus",
    "Katsiaryna",
    "Kiril",
    "Larisa",
    "Leonid",
    "Maksim",
    "Maria",
    "Mikhail",
    "Natalia",
    "Nikolai",
    "Oksana",
    "Oleg",
    "Olga",
    "Pavel",
    "Roman",
    "Sergei",
    "Sviatlana",
    "Taras",
    "Tatsiana",
    "Uladzimir",
    "Valeria",
    "Vasil",
    "Viktar",
    "Yana",
    "Yuri",
    "Zinaida",
    "Zmitser",
]
LAST = [
    "Antonau",
    "Babich",
    "Bialiatski",
    "Dashkevich",
    "Drozd",
    "Filipenka",
    "Hrytsenka",
    "Ivanou",
    "Kalesnik",
    "Karpenka",
    "Kavaliou",
    "Klimovich",
    "Kovalenko",
    "Kuzmich",
    "Lebedzeu",
    "Lysenka",
    "Makarevich",
    "Marozau",
    "Melnik",
    "Navumenka",
    "Nosau",
    "Palyakou",
    "Pashkevich",
    "Petrenka",
    "Radzivon",
    "Savitski",
    "Shevchenko",
    "Sidarenka",
    "Smirnou",
    "Sokal",
    "Tkachenka",
    "Valodzin",
    "Vasilevich",
    "Yakubovich",
    "Zaitsau",
    "Zhuk",
    "Zubrytski",
    "Hlebau",
    "Charniauski",
    "Ulasau",
]
NATIONALITIES = ["belarusian", "russian", "ukrainian", "lithuanian", "polish"]
COUNTRIES = ["belarus", "russia", "ukraine", "lithuania", "poland"]
UNIT_WORDS = [
    "Freedom",
    "Dawn",
    "Border",
    "Forest",
    "River",
    "Iron",
    "North",
    "Steppe",
    "Falcon",
    "Oak",
    "Wolf",
    "Storm",
]
UNIT_KINDS = ["Battalion", "Regiment", "Company", "Legion", "Brigade", "Detachment"]
PLACE_PARTS = ["Novo", "Staro", "Vysoko", "Bela", "Chorno", "Zeleno", "Kras", "Mali", "Veli", "Dolno"]
PLACE_ENDS = ["hrad", "pil", "dar", "vka", "mir", "slav", "horod", "lyany", "brod", "poli"]
# Quotes are drawn from a Zipf-distributed vocabulary, as words in real text are: a few very common
# words, a long tail of rare ones. Real function and topic words head a tail of generated ones.
COMMON_WORDS = [
    "the",
    "and",
    "to",
    "of",
    "a",
    "in",
    "we",
    "is",
    "that",
    "for",
    "it",
    "not",
    "our",
    "they",
    "will",
    "be",
    "are",
    "this",
    "with",
    "on",
    "have",
    "but",
    "was",
    "at",
    "from",
    "war",
    "people",
    "country",
    "freedom",
    "regime",
    "front",
    "soldiers",
    "volunteers",
    "home",
    "future",
    "history",
    "families",
    "army",
    "border",
    "winter",
    "city",
    "fight",
    "democracy",
]
SYLLABLES = [
    "ka",
    "lo",
    "mi",
    "ne",
    "ra",
    "to",
    "vi",
    "za",
    "shu",
    "dre",
    "bel",
    "gor",
    "pol",
    "vin",
    "sta",
    "mar",
]
VOCABULARY_SIZE = 6000
ZIPF_EXPONENT = 1.07
EVENT_KINDS = ["battle", "combat", "defection", "press-conference", "interview", "sabotage"]
PER_ARTICLE = {"people": 3, "quotes": 20}


@dataclass(frozen=True)
class Pools:
    people: list[dict[str, Any]]
    units: list[dict[str, Any]]
    places: list[dict[str, Any]]


def _slug(text: str) -> str:
    return "-".join("".join(c for c in part.lower() if c.isalnum()) for part in text.split())


def _pools(rng: random.Random, articles: int) -> Pools:
    people: list[dict[str, Any]] = []
    seen: set[str] = set()
    while len(people) < max(40, articles * PER_ARTICLE["people"] // 4):
        name = f"{rng.choice(FIRST)} {rng.choice(LAST)}"
        if len(people) >= len(FIRST) * len(LAST) // 2:
            name = f"{name} {len(people)}"
        ident = _slug(name)
        if ident in seen:
            continue
        seen.add(ident)
        index = rng.randrange(len(NATIONALITIES))
        people.append(
            {
                "id": ident,
                "name": name,
                "nationality": NATIONALITIES[index],
                "description": f"Volunteer from {COUNTRIES[index].title()}.",
                "alias": name.replace("ch", "tsch").replace("v", "w")
                if "v" in name or "ch" in name
                else None,
            }
        )
    units = []
    for index in range(max(10, articles // 8)):
        name = f"{rng.choice(UNIT_WORDS)} {rng.choice(UNIT_WORDS)} {rng.choice(UNIT_KINDS)} {index}"
        units.append({"id": _slug(name), "name": name, "country": rng.choice(COUNTRIES)})
    places = []
    for index in range(max(12, articles // 20)):
        name = f"{rng.choice(PLACE_PARTS)}{rng.choice(PLACE_ENDS)} {index}"
        places.append({"id": _slug(name), "name": name, "country": rng.choice(COUNTRIES)})
    return Pools(people, units, places)


def _vocabulary() -> tuple[list[str], list[float]]:
    """The words and their cumulative Zipf weights (rank r has weight 1 / r ** ZIPF_EXPONENT)."""
    words = list(COMMON_WORDS)
    seen = set(words)
    rng = random.Random(7)
    while len(words) < VOCABULARY_SIZE:
        word = "".join(rng.choice(SYLLABLES) for _ in range(rng.randrange(2, 5)))
        if word not in seen:
            seen.add(word)
            words.append(word)
    cumulative, total = [], 0.0
    for rank in range(1, len(words) + 1):
        total += 1 / rank**ZIPF_EXPONENT
        cumulative.append(total)
    return words, cumulative


VOCABULARY, CUMULATIVE = _vocabulary()


def _sentence(rng: random.Random, words: int) -> str:
    chosen = rng.choices(VOCABULARY, cum_weights=CUMULATIVE, k=words)
    return " ".join(chosen).capitalize() + "."


def _article(rng: random.Random, number: int, pools: Pools) -> tuple[str, dict[str, Any]]:
    people = rng.sample(pools.people, PER_ARTICLE["people"])
    unit = rng.choice(pools.units)
    place_a, place_b = rng.sample(pools.places, 2)
    year = 2014 + number % 10
    sentences: list[str] = []
    facts: dict[str, Any] = {
        "people": [],
        "units": [],
        "places": [],
        "events": [],
        "quotes": [],
        "figures": [],
    }

    size = rng.randrange(40, 4000)
    unit_sentence = f"The {unit['name']}, around {size} members strong, fights near {place_a['name']}."
    sentences.append(unit_sentence)
    facts["units"].append(
        {
            "id": unit["id"],
            "name": unit["name"],
            "kind": "military-unit",
            "country": {
                "value": unit["country"],
                "certainty": "inferred",
                "note": "Generated.",
                "evidence": unit_sentence,
            },
            "places": [{"place": place_a["id"], "role": "fights near", "evidence": unit_sentence}],
            "evidence": unit_sentence,
        }
    )
    facts["figures"].append(
        {
            "id": f"a{number}-unit-size",
            "text": f"around {size}",
            "amount": size,
            "qualifier": "approximate",
            "unit": "members",
            "counts": f"members of the {unit['name']}",
            "subject": {"unit": unit["id"], "property": "size"},
            "evidence": unit_sentence,
        }
    )
    for place in (place_a, place_b):
        facts["places"].append(
            {
                "id": place["id"],
                "name": place["name"],
                "kind": "city",
                "country": place["country"],
                "evidence": {"text": place["name"], "occurrence": 1},
            }
        )
    for person in people:
        age = rng.randrange(19, 70)
        sentence = f"{person['name']} ({age}) serves in the {unit['name']}."
        sentences.append(sentence)
        record: dict[str, Any] = {
            "id": person["id"],
            "name": person["name"],
            "description": person["description"],
            "age": {"value": age, "evidence": f"{person['name']} ({age})"},
            "nationality": {
                "value": person["nationality"],
                "certainty": "inferred",
                "note": "From the pool.",
                "evidence": sentence,
            },
            "memberships": [{"unit": unit["id"], "role": "member", "evidence": sentence}],
            "evidence": sentence,
        }
        if person["alias"]:
            record["aliases"] = [{"name": person["alias"], "source": "external", "note": "German spelling"}]
        facts["people"].append(record)
    event_sentence = f"In {year} the {unit['name']} fought at {place_b['name']}."
    sentences.append(event_sentence)
    facts["events"].append(
        {
            "id": f"a{number}-event",
            "title": f"The {unit['name']} fights at {place_b['name']}",
            "kind": rng.choice(EVENT_KINDS),
            "date": {"text": str(year), "start": str(year), "evidence": f"In {year} the {unit['name']}"},
            "places": [{"place": place_b["id"], "evidence": event_sentence}],
            "participants": [{"unit": unit["id"], "role": "fighters", "evidence": event_sentence}],
            "evidence": event_sentence,
        }
    )
    used = set()
    for index in range(PER_ARTICLE["quotes"]):
        speaker = people[index % len(people)]
        while True:
            text = _sentence(rng, rng.randrange(8, 22))
            if text not in used:
                used.add(text)
                break
        attribution = f"“{text}” said {speaker['name']}."
        sentences.append(attribution)
        facts["quotes"].append(
            {
                "id": f"a{number}-q{index}",
                "text": text,
                "speaker": {"person": speaker["id"], "evidence": attribution},
            }
        )
    text = f"Report number {number}.\n" + "\n".join(sentences)
    digest = hashlib.sha256(text.encode()).hexdigest()
    facts["article"] = {
        "sha256": digest,
        "title": {"value": f"Synthetic report {number}", "certainty": "inferred", "note": "Generated."},
        "language": {"value": "en", "evidence": f"Report number {number}."},
        "published": {"start": f"{year}-06-01", "certainty": "inferred", "note": "Generated."},
    }
    return text, facts


def _countries() -> tuple[str, dict[str, Any]]:
    """One article naming the countries, so every other article can refer to them by id."""
    text = "Countries in this archive: " + ", ".join(c.title() for c in COUNTRIES) + "."
    places = [
        {"id": c, "name": c.title(), "kind": "country", "country": c, "evidence": c.title()}
        for c in COUNTRIES
    ]
    facts = {
        "article": {
            "sha256": hashlib.sha256(text.encode()).hexdigest(),
            "title": {"value": "Countries", "certainty": "inferred", "note": "Generated."},
            "language": {"value": "en", "evidence": "Countries in this archive"},
            "published": {"start": "2014-01-01", "certainty": "inferred", "note": "Generated."},
        },
        "places": places,
    }
    return text, facts


def generate(target: Path, articles: int, seed: int = 2022) -> Path:
    """Write `articles` article folders under `target` (replacing it); deterministic for a given seed."""
    stamp = target / ".generated"
    signature = f"{GENERATOR_VERSION}:{articles}:{seed}"
    if stamp.exists() and stamp.read_text() == signature:
        return target
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True)
    rng = random.Random(seed)
    pools = _pools(rng, articles)
    for number in range(-1, articles):
        text, facts = _countries() if number < 0 else _article(rng, number, pools)
        folder = target / ("synthetic-countries" if number < 0 else f"synthetic-{number:07d}")
        folder.mkdir()
        (folder / "article.txt").write_text(text, encoding="utf-8")
        (folder / "facts.json").write_text(json.dumps(facts, ensure_ascii=False), encoding="utf-8")
    stamp.write_text(signature)
    return target
