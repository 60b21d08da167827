"""Fold names for matching: case, accents and look-alike punctuation removed.

`Tichanovskaya`, `TICHANOVSKAYA` and `Tichanovskaja` differ only in spelling, which aliases cover; case
and diacritics (`Viačorka` / `Viacorka`) are folded away here. The same function folds the stored names
and the query, on every backend, so SQLite and PostgreSQL match the same records.
"""

import re
import unicodedata

# Letters that carry no combining mark to strip, and punctuation people type in several ways.
_LOOKALIKES = str.maketrans(
    {
        "ł": "l",
        "Ł": "l",
        "ø": "o",
        "Ø": "o",
        "đ": "d",
        "Đ": "d",
        "ħ": "h",
        "ı": "i",
        "æ": "ae",
        "Æ": "ae",
        "œ": "oe",
        "Œ": "oe",
        "þ": "th",
        "’": "'",
        "‘": "'",
        "ʼ": "'",
        "`": "'",
        "“": '"',
        "”": '"',
        "«": '"',
        "»": '"',
        "–": "-",
        "—": "-",
        "‐": "-",
    }
)
_SPACES = re.compile(r"\s+")


def fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.translate(_LOOKALIKES))
    # Combining marks are the accents; format characters (Cf: zero-width spaces, direction marks) are
    # invisible and only ever get into a name by copy and paste.
    stripped = "".join(
        c for c in decomposed if not unicodedata.combining(c) and unicodedata.category(c) != "Cf"
    )
    return _SPACES.sub(" ", stripped.casefold()).strip()
