"""Request and response schemas of the committees: creating one, changing one, and reading one with its numbering.

A committee numbers its cases and each kind of document it issues by a pattern (models/repo.py `format_number`):
`{year}`, `{short}` (the short name) and `{seq}` (the committee's next number of that kind in that year) are filled
in. A pattern is checked when it is sent, so that no case or document is ever refused a number later: it names
those three fields only, `{year}` and `{seq}` both (numbers run per committee and year: without either, two numbers
would print alike), with at most a zero-padded width (`{seq:04d}`), and what it prints fits the number's column.
"""

from __future__ import annotations

import re
from string import Formatter
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, Field, model_validator

from domain.payloads import Strict
from models.schemas import CommitteePublic
from models.tables import DEFAULT_NUMBER_PATTERNS, Committee

NUMBER_LENGTH = 100  # Case.number, DocumentNumber.number
SHORT_NAME_LENGTH = 20  # Committee.short_name
DEFAULT_CASE_NUMBER_PATTERN: str = Committee.model_fields["case_number_pattern"].default
FIELDS = ("year", "short", "seq")
_WIDTH = re.compile(r"0?[1-9]?d?")  # {seq:04d}, {seq:4}, {year:d}; nothing that could print a page


def number_pattern_problem(pattern: str) -> str | None:
    """What is wrong with a numbering pattern, in words, or None."""
    try:
        parts = list(Formatter().parse(pattern))
    except ValueError as error:  # a lone { or }
        return f"{error}; write a literal brace as {{{{ or }}}}"
    named: set[str] = set()
    for _text, field, spec, conversion in parts:
        if field is None:
            continue
        if field not in FIELDS:
            return (f"{{{field}}} is not a field of a number; use {{year}}, {{short}} and {{seq}}" if field else
                    "{} names no field; use {year}, {short} and {seq}")
        if conversion:
            return f"{{{field}!{conversion}}}: a field takes no conversion"
        if spec and (field == "short" or not _WIDTH.fullmatch(spec)):
            return (f"{{{field}:{spec}}}: {{short}} takes no format" if field == "short" else
                    f"{{{field}:{spec}}}: only a width, zero-padded or not, such as {{{field}:04d}}")
        named.add(field)
    missing = [f"{{{field}}}" for field in ("year", "seq") if field not in named]
    if missing:
        return (f"{' and '.join(missing)} missing: numbers run per committee and year, so without "
                f"{'them' if len(missing) > 1 else 'it'} two numbers would print alike")
    longest = pattern.format(year=9999, short="短" * SHORT_NAME_LENGTH, seq=999999)
    if len(longest) > NUMBER_LENGTH:
        return f"prints up to {len(longest)} characters; a number holds at most {NUMBER_LENGTH}"
    return None


def _checked(pattern: str) -> str:
    problem = number_pattern_problem(pattern)
    if problem is not None:
        raise ValueError(problem)
    return pattern


NumberPattern = Annotated[str, Field(min_length=1, max_length=100, examples=["〔{year}〕{short}医调字第{seq}号"]),
                          AfterValidator(_checked)]
NumberKind = Literal[tuple(DEFAULT_NUMBER_PATTERNS)]  # type: ignore[valid-type]
CommitteeId = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$", examples=["jingan"])]
CommitteeName = Annotated[str, Field(min_length=1, max_length=200, examples=["上海市静安区医疗纠纷人民调解委员会"])]
ShortName = Annotated[str, Field(min_length=1, max_length=SHORT_NAME_LENGTH, examples=["沪静"],
                                 description="printed in its numbers ({short})")]
City = Annotated[str, Field(min_length=1, max_length=100, examples=["上海市"],
                            description="a city-level auditor reaches the cases of every committee of the city")]

PATTERNS_DESCRIPTION = (f"the pattern of a kind of document, where it differs from the default; kinds: "
                        f"{', '.join(DEFAULT_NUMBER_PATTERNS)}")


class CommitteeCreate(Strict):
    """A committee of this installation (人民调解委员会). Its clock lengths are the rule book's until set
    (`PUT /committees/{id}/policy`)."""

    id: CommitteeId
    name: CommitteeName
    short_name: ShortName
    city: City
    case_number_pattern: NumberPattern = Field(default=DEFAULT_CASE_NUMBER_PATTERN,
                                               description="the case number: {year}, {short}, {seq}")
    number_patterns: dict[NumberKind, NumberPattern] = Field(
        default_factory=dict, description=PATTERNS_DESCRIPTION,
        examples=[{"agreement": "〔{year}〕{short}医调协字第{seq:03d}号"}])


NOT_NULL = ("name", "short_name", "city", "case_number_pattern")


class CommitteeUpdate(Strict):
    """A partial change: only the fields given change; the id never does. A new short name or pattern numbers
    the cases and documents numbered from then on (those numbered keep their numbers). `number_patterns` is
    merged into the committee's: a kind given a pattern takes it, a kind given `null` returns to the default."""

    name: CommitteeName | None = None
    short_name: ShortName | None = None
    city: City | None = None
    case_number_pattern: NumberPattern | None = None
    number_patterns: dict[NumberKind, NumberPattern | None] | None = Field(
        default=None, description=PATTERNS_DESCRIPTION + "; null: back to the default",
        examples=[{"agreement": "〔{year}〕{short}医调协字第{seq:03d}号", "session_minutes": None}])

    @model_validator(mode="after")
    def _required_stay(self) -> CommitteeUpdate:
        cleared = [name for name in (*NOT_NULL, "number_patterns")
                   if name in self.model_fields_set and getattr(self, name) is None]
        if cleared:
            raise ValueError(f"{', '.join(cleared)} cannot be cleared (null)")
        return self

    def changes(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.model_fields_set}


class CommitteeDetail(CommitteePublic):
    """A committee with its numbering."""

    case_number_pattern: str
    number_patterns: dict[str, str] = Field(description="the committee's own patterns (overriding the default)")
    number_patterns_in_force: dict[str, str] = Field(description="the pattern of every kind of document: the "
                                                     "committee's own, or the default")
