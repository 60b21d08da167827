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
    if text.isascii() and text.isprintable():
        # The common case, and a shortcut: printable ASCII has no accents, marks or control characters to
        # remove, and its only look-alike is the backtick. Same result as below (a test checks it).
        return _SPACES.sub(" ", text.replace("`", "'").lower()).strip()
    return fold_any(text)


def fold_any(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.translate(_LOOKALIKES))
    # Combining marks are the accents; format and control characters (zero-width spaces, direction
    # marks, NUL) are invisible and only ever get into a name by copy and paste.
    stripped = "".join(
        " " if c.isspace() else c
        for c in decomposed
        if c.isspace() or not (unicodedata.combining(c) or unicodedata.category(c) in ("Cf", "Cc"))
    )
    return _SPACES.sub(" ", stripped.casefold()).strip()
