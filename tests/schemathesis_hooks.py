"""Schemathesis hooks for this API (used by tests/test_schema_fuzzing.py and by `schemathesis run`
through `hooks` in schemathesis.toml).

`cursor` is an opaque token the API hands out in `next` links: a random string that fits its pattern is
still no cursor, and the API rightly refuses it (422). So a generated request keeps its cursor only when
the cursor breaks the pattern (negative testing); a well-formed-looking random cursor is removed from the
request, which is otherwise sent as generated. Real cursors are tested by tests/test_properties.py, which
follows `next` links.
"""

from __future__ import annotations

import re
from typing import Any

import schemathesis

_CURSOR = re.compile(r"^[A-Za-z0-9_-]+$")


def without_random_cursor(case: Any) -> Any:
    cursor = (case.query or {}).get("cursor")
    if isinstance(cursor, str) and _CURSOR.match(cursor):
        case.query = {key: value for key, value in case.query.items() if key != "cursor"}
    return case


@schemathesis.hook
def map_case(context: Any, case: Any) -> Any:
    return without_random_cursor(case)
