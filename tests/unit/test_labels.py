"""The case file's history prints each event's details in Chinese, never codes (PML 27, rev 2)."""

from __future__ import annotations

import typing
from collections.abc import Iterator

from pydantic import BaseModel

from domain import labels
from domain.events import EVENTS
from domain.payloads import LiabilityDegree


def test_every_degree_of_liability_has_its_words() -> None:
    assert set(labels.LIABILITY_DEGREES) == set(typing.get_args(LiabilityDegree))


def test_an_appraisal_and_a_consultation_are_printed_in_words() -> None:
    # PML 27 (rev 2): the history prints each event's details in Chinese, not codes
    appraisal = labels.details({"liability_degree": "none",
                                "fees_advanced": {"patient": "3000.00", "institution": "0.00"}})
    assert dict(appraisal) == {"责任程度": "无责任", "预交鉴定费": "患方：3000.00；医方：0.00"}
    assert labels.details({"specialties": ["obstetrics", "law"]}) == (("专业", "产科；法学"),)


def test_a_code_that_is_a_word_elsewhere_keeps_its_meaning_there() -> None:
    # "none" is a degree of liability only in that field
    assert labels.details({"note": "none"}) == ((labels.FIELD_LABELS["note"], "none"),)


def _fields(model: type[BaseModel], seen: set[type[BaseModel]]) -> Iterator[tuple[str, str]]:
    """(model, field) of a payload and of the models it nests."""
    for name, field in model.model_fields.items():
        yield model.__name__, name
        for part in (field.annotation, *typing.get_args(field.annotation)):
            for inner in (part, *typing.get_args(part)):
                if isinstance(inner, type) and issubclass(inner, BaseModel) and inner not in seen:
                    seen.add(inner)
                    yield from _fields(inner, seen)


def test_every_field_an_action_records_has_chinese_words() -> None:
    # PML 27 (rev 2): the history prints each event's details in Chinese. The registration is filed apart, as the
    # application record (调解申请记录), with its own words.
    unlabelled = sorted({(model, name) for spec in EVENTS.values() if spec.payload and spec.name != "register"
                         for model, name in _fields(spec.payload, {spec.payload})
                         if name not in labels.FIELD_LABELS and name not in labels.HIDDEN_FIELDS})
    assert unlabelled == []
