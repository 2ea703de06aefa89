"""Which languages each kind of document is issued in: what the case's workflow needs to name a document before
it is rendered. No rendering code here (the workflow and the API import this; documents/render.py the rest)."""

from __future__ import annotations

LANGUAGES = ("zh", "en")
# The 卷宗 binds the documents as issued, in the committee's language only.
ONLY_IN: dict[str, tuple[str, ...]] = {"case_file": ("zh",)}


def languages_of(kind: str) -> tuple[str, ...]:
    return ONLY_IN.get(kind, LANGUAGES)
