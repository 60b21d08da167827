"""Reading `seeds/`: one folder per article, each with its text and its facts file.

Everything that can be wrong with a file is collected as a `SeedError` that names the file, the record
and the field, so an editor sees every problem at once and knows where to look.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from app.facts_file import SECTIONS, ArticleMeta, FactsFile

FACTS_FILE_NAMES = ("facts.yaml", "facts.yml", "facts.json")
SINGULAR = {
    "people": "person",
    "units": "unit",
    "places": "place",
    "events": "event",
    "quotes": "quote",
    "figures": "figure",
}


@dataclass(frozen=True)
class SeedError:
    path: str
    message: str
    record: str | None = None
    field: str | None = None

    def __str__(self) -> str:
        where = self.path
        if self.record:
            where += f": {self.record}"
        if self.field:
            where += f", field `{self.field}`"
        return f"{where}: {self.message}"


class SeedErrors(Exception):
    """Every problem found in the seeds; nothing was written."""

    def __init__(self, errors: list[SeedError]) -> None:
        super().__init__(errors)
        self.errors = errors

    def __str__(self) -> str:
        count = len(self.errors)
        lines = [f"{count} problem{'s' if count != 1 else ''} in the seeds; nothing was written:"]
        lines += [f"  {error}" for error in self.errors]
        return "\n".join(lines)


@dataclass
class ArticleSeed:
    """One article folder, parsed and validated."""

    id: str
    folder: Path
    facts_path: Path
    article: ArticleMeta
    raw: dict[str, Any]
    """The parsed file; `validate` makes the facts of it. Until then it takes a third of the memory the
    facts would, and a load holds every file at once: they are checked in order of publication."""
    text: str
    digests: dict[str, bytes]
    """The SHA-256 of each file read, by path under the seeds folder: the dataset version reuses them."""

    def validate(self, seeds_dir: Path) -> tuple[FactsFile | None, list[SeedError]]:
        """The whole file validated, or what is wrong with it. The article part already was, when it was
        read: Pydantic takes that model as it is (~0.1 s of a 1M load's check not spent again)."""
        try:
            return FactsFile.model_validate({**self.raw, "article": self.article}), []
        except ValidationError as exc:
            return None, validation_errors(exc, self.raw, self.display_path(seeds_dir))

    def display_path(self, seeds_dir: Path) -> str:
        return f"{seeds_dir.name}/{self.folder.name}/{self.facts_path.name}"


def _display(path: Path, seeds_dir: Path) -> str:
    try:
        return str(Path(seeds_dir.name) / path.relative_to(seeds_dir))
    except ValueError:
        return str(path)


class _UniqueKeyLoader(yaml.CSafeLoader if hasattr(yaml, "CSafeLoader") else yaml.SafeLoader):  # type: ignore[misc]
    """PyYAML keeps the last of two equal keys silently; a facts file must not lose data that way."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: dict[Any, int] = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None,
                    None,
                    f"key {key!r} appears twice in one mapping (first on line {seen[key] + 1})",
                    key_node.start_mark,
                )
            seen[key] = key_node.start_mark.line
        return super().construct_mapping(node, deep=deep)  # type: ignore[no-any-return]


def _reject_duplicate_json_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) != len(pairs):  # the rare case: find the key to name it
        keys = [key for key, _ in pairs]
        repeated = next(key for key in keys if keys.count(key) > 1)
        raise ValueError(f"key {repeated!r} appears twice in one object")
    return result


def parse_facts_text(content: str, suffix: str) -> Any:
    """Parse a facts file's text; raises ValueError with a message that says where the syntax breaks."""
    if suffix == ".json":
        try:
            return json.loads(content, object_pairs_hook=_reject_duplicate_json_keys)
        except json.JSONDecodeError as exc:
            raise ValueError(f"invalid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}") from exc
    try:
        return yaml.load(content, Loader=_UniqueKeyLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise ValueError(f"invalid YAML{where}: {exc.problem or exc.context}") from exc
    except yaml.YAMLError as exc:
        raise ValueError(f"invalid YAML: {exc}") from exc


def _format_loc(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif part.startswith(("function-", "str", "list[")):
            continue  # pydantic's internal step names for validators and unions
        else:
            out += ("." if out else "") + part
    return out


def _message(error: Any) -> str:
    kind = error["type"]
    if kind == "missing":
        return "required field is missing"
    if kind == "extra_forbidden":
        return "unknown field; check its spelling against seeds/facts.schema.json"
    message = str(error["msg"])
    return message.removeprefix("Value error, ")


def validation_errors(exc: ValidationError, raw: Any, path: str) -> list[SeedError]:
    """Turn pydantic's errors into SeedErrors that name the record by its id."""
    errors = []
    for error in exc.errors():
        loc = tuple(error["loc"])
        record = field_loc = None
        if loc and loc[0] in SECTIONS and len(loc) > 1 and isinstance(loc[1], int):
            section, index = str(loc[0]), loc[1]
            item = raw.get(section, [])[index] if isinstance(raw, dict) else None
            ident = item.get("id") if isinstance(item, dict) else None
            record = f"{SINGULAR[section]} `{ident}`" if isinstance(ident, str) else f"{section}[{index}]"
            field_loc = _format_loc(loc[2:]) or None
        elif loc and loc[0] == "article":
            record, field_loc = "article", _format_loc(loc[1:]) or None
        else:
            field_loc = _format_loc(loc) or None
        errors.append(SeedError(path, _message(error), record, field_loc))
    return errors


def article_folders(seeds_dir: Path) -> Iterator[Path]:
    """Article folders, in a stable order. Folders starting with `.` or `_` are ignored."""
    with os.scandir(seeds_dir) as entries:  # scandir knows which entries are folders without a stat each
        names = sorted(e.name for e in entries if e.is_dir() and not e.name.startswith((".", "_")))
    for name in names:
        yield seeds_dir / name


def read_article(folder: Path, seeds_dir: Path) -> tuple[ArticleSeed | None, list[SeedError]]:
    """Parse one folder and validate its `article` part (the rest is validated when the article is
    checked: `ArticleSeed.validate`); returns the article or the errors that prevent reading it."""
    display = f"{seeds_dir.name}/{folder.name}"  # article folders are children of seeds_dir
    try:
        present = os.listdir(folder)
    except OSError as exc:
        return None, [SeedError(display, f"cannot read the folder: {exc.strerror}")]
    candidates = [folder / name for name in FACTS_FILE_NAMES if name in present and (folder / name).is_file()]
    if not candidates:
        names = " or ".join(FACTS_FILE_NAMES)
        return None, [SeedError(display, f"no facts file; add {names} (see seeds/README.md)")]
    if len(candidates) > 1:
        found = ", ".join(c.name for c in candidates)
        return None, [SeedError(display, f"more than one facts file ({found}); keep one")]
    facts_path = candidates[0]
    shown = f"{display}/{facts_path.name}"
    try:
        data = facts_path.read_bytes()
        content = data.decode("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return None, [SeedError(shown, f"cannot read the file: {exc}")]
    if "\r" in content:  # line ends as text mode reads them
        content = content.replace("\r\n", "\n").replace("\r", "\n")
    digests = {f"{folder.name}/{facts_path.name}": hashlib.sha256(data).digest()}
    try:
        raw = parse_facts_text(content, facts_path.suffix)
    except ValueError as exc:
        return None, [SeedError(shown, str(exc))]
    if not isinstance(raw, dict):
        return None, [SeedError(shown, "the file must hold a mapping with an `article` key at the top")]
    try:  # the article part now, for the order of reading and the text; the rest when it is checked
        article = ArticleMeta.model_validate(raw.get("article"))
    except ValidationError:
        try:
            FactsFile.model_validate(raw)
        except ValidationError as exc:  # every problem of the file, as the whole file reports them
            return None, validation_errors(exc, raw, shown)
        raise  # unreachable: a file whose article is invalid is invalid

    text_path = folder / article.text_file
    try:
        data = text_path.read_bytes()
    except OSError as exc:
        return None, [
            SeedError(_display(text_path, seeds_dir), f"cannot read the article text: {exc.strerror}")
        ]
    hashed = hashlib.sha256(data)
    digest = hashed.hexdigest()
    if digest != article.sha256:
        return None, [
            SeedError(
                shown,
                f"{text_path.name} has SHA-256 {digest}, not the {article.sha256} recorded; the "
                "source text must stay byte for byte as received (if it really changed, update `sha256`)",
                "article",
                "sha256",
            )
        ]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        return None, [SeedError(_display(text_path, seeds_dir), f"not valid UTF-8 at byte {exc.start}")]
    digests[os.path.relpath(text_path, seeds_dir).replace(os.sep, "/")] = hashed.digest()
    return ArticleSeed(folder.name, folder, facts_path, article, raw, text, digests), []
