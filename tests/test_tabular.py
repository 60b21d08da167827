"""CSV lines: each record's line is what Python's `csv` module would write for its cells.

The loader stores a CSV line per record and CSV pages are joined from them (`app.tabular`); the lines are
written by a few `str` operations rather than by `csv.writer`, so here the writer is the reference.
"""

from __future__ import annotations

import csv
import io

from hypothesis import given, settings
from hypothesis import strategies as st

from app import schemas
from app.tabular import _field, csv_columns, csv_header, line_writer

# Text with every character that matters to CSV, and some that must pass through untouched.
TEXT = st.text(alphabet=st.sampled_from(list(" ,\"\r\n\t;|'`aZ9é—“”«»\u2028")) | st.characters(), max_size=30)
CELL = TEXT | st.integers() | st.floats(allow_nan=False)


def _written(cells: list[object]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerow(cells)
    return buffer.getvalue()


@settings(max_examples=500)
@given(st.lists(CELL, min_size=2, max_size=8))  # the models' rows have many columns, never one
def test_a_line_is_what_the_csv_module_writes(cells: list[object]) -> None:
    assert ",".join(_field(cell) for cell in cells) + "\r\n" == _written(cells)


def test_lines_read_back_as_the_record_and_the_header_as_the_columns() -> None:
    item = {
        "kind": "quote",
        "id": "fischer-majority-against-war",
        "label": 'Julie Fischer: "Unlike in Russia, the vast majority…"',
        "score": 12.5,
        "snippet": "the vast <mark>majority</mark>\r\nof people",
        "url": "/quotes/fischer-majority-against-war",
    }
    text = (csv_header(schemas.SearchHit) + line_writer(schemas.SearchHit)(item)).decode()
    assert text.splitlines()[0] == ",".join(csv_columns(schemas.SearchHit))
    (row,) = csv.DictReader(io.StringIO(text))
    assert row == {key: str(value) for key, value in item.items()}
