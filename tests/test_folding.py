"""Folding, the one function behind every name match: what it removes, and that its ASCII shortcut agrees
with the general path on any text."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from app.folding import fold, fold_any


def test_case_accents_lookalikes_and_invisible_characters_are_folded_away() -> None:
    assert fold("Viačorka") == fold("VIACORKA") == "viacorka"
    assert fold("Łukashenka") == "lukashenka"
    assert fold("Kastus\u200b  Kalinouski") == "kastus kalinouski"
    assert fold("Kalinouski’s") == fold("Kalinouski`s") == "kalinouski's"
    assert fold("  Tsikhanouskaya\t") == "tsikhanouskaya"


@given(st.text(alphabet=st.characters(max_codepoint=127)) | st.text())
def test_the_ascii_shortcut_gives_the_general_answer(text: str) -> None:
    assert fold(text) == fold_any(text)
