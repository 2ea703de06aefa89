"""Request and response schemas of the expert pool (Reg 35): experts, institutions, medical groups."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from pydantic import BaseModel, Field, model_validator

from domain.payloads import ID_NUMBER, PHONE, Day, LocalTime, Name, Strict
from domain.pool import DEFAULT_CAP, MAX_CAP
from domain.specialties import SPECIALTIES
from models.paging import Page
from models.schemas import Out

SpecialtyCode = Literal[tuple(SPECIALTIES)]  # type: ignore[valid-type]
Ident = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]
EMAIL = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"
Short = Annotated[str, Field(max_length=100)]


class AffiliationIn(Strict):
    """Where the expert works or worked: Reg 37 excludes them from cases against it for N years after."""

    institution_id: Ident = Field(examples=["sh-mq-main"])
    started_on: Day | None = Field(default=None, examples=["2015-09-01"])
    ended_on: Day | None = Field(default=None, description="empty: still there")

    @model_validator(mode="after")
    def _ordered(self) -> AffiliationIn:
        if self.started_on and self.ended_on and self.ended_on < self.started_on:
            raise ValueError(f"affiliation with {self.institution_id}: ended_on is before started_on")
        return self


class RelativeIn(Strict):
    """A declared close relative, to recognise a relative of a party (Reg 37)."""

    name: Name = Field(examples=["张丽"])
    relation: str = Field(min_length=1, max_length=50, examples=["配偶"])
    id_number: str | None = Field(default=None, pattern=ID_NUMBER)


class ExpertCreate(Strict):
    """A member of the city's expert pool (Reg 35)."""

    id: Ident | None = Field(default=None, description="the pool's own number; generated when left out",
                             examples=["SH-E0101"])
    city: Short = Field(min_length=1, examples=["上海市"])
    name: Name = Field(examples=["张建国"])
    title: Short = Field(default="", examples=["主任医师"])
    specialties: list[SpecialtyCode] = Field(
        min_length=1, max_length=10, examples=[["obstetrics", "gynecology"]]
    )
    region: Short = Field(default="", examples=["黄浦区"])
    active: bool = True
    max_concurrent: int = Field(
        default=DEFAULT_CAP, ge=1, le=MAX_CAP, description="cap on concurrent assignments"
    )
    phone: str | None = Field(default=None, pattern=PHONE, examples=["13800138000"])
    email: str | None = Field(default=None, max_length=200, pattern=EMAIL)
    id_number: str | None = Field(default=None, pattern=ID_NUMBER)
    relatives: list[RelativeIn] = Field(default_factory=list, max_length=20)
    affiliations: list[AffiliationIn] = Field(default_factory=list, max_length=20)


NOT_NULL = ("city", "name", "specialties", "active", "max_concurrent")


class ExpertUpdate(Strict):
    """A partial change: only the fields given change. `null` clears title, region, phone, e-mail, identity
    number, relatives and affiliations; given `affiliations` replace the expert's affiliations."""

    city: Short | None = Field(default=None, min_length=1)
    name: Name | None = None
    title: Short | None = None
    specialties: list[SpecialtyCode] | None = Field(default=None, min_length=1, max_length=10)
    region: Short | None = None
    active: bool | None = None
    max_concurrent: int | None = Field(default=None, ge=1, le=MAX_CAP)
    phone: str | None = Field(default=None, pattern=PHONE)
    email: str | None = Field(default=None, max_length=200, pattern=EMAIL)
    id_number: str | None = Field(default=None, pattern=ID_NUMBER)
    relatives: list[RelativeIn] | None = Field(default=None, max_length=20)
    affiliations: list[AffiliationIn] | None = Field(default=None, max_length=20)

    @model_validator(mode="after")
    def _required_stay(self) -> ExpertUpdate:
        cleared = [name for name in NOT_NULL if name in self.model_fields_set and getattr(self, name) is None]
        if cleared:
            raise ValueError(f"{', '.join(cleared)} cannot be cleared (null)")
        return self


class RelativePublic(BaseModel):
    name: str
    relation: str
    id_number: str | None = None


class AffiliationPublic(BaseModel):
    institution_id: str
    institution_name: str
    group_id: str | None
    started_on: date | None
    ended_on: date | None
    current: bool = Field(description="still there (no end date, or an end date not yet reached)")


class ExpertPublic(BaseModel):
    id: str
    city: str
    name: str
    title: str
    specialties: list[str] = Field(description="codes (GET /pool/specialties)")
    specialty_labels: list[str] = Field(examples=[["产科", "妇科"]])
    region: str
    active: bool
    max_concurrent: int
    phone: str
    email: str
    id_number: str | None = Field(description="masked in lists")
    relatives: list[RelativePublic]
    affiliations: list[AffiliationPublic]
    created_at: LocalTime
    updated_at: LocalTime


class ExpertsPublic(Page[ExpertPublic]):
    """A page of the pool, by id."""


class InstitutionGroupCreate(Strict):
    """A medical group (医疗集团, 医联体): a conflict with one site is a conflict with all (Reg 37)."""

    id: Ident = Field(examples=["sh-mq-group"])
    name: str = Field(min_length=1, max_length=200, examples=["上海市某区医疗集团"])
    city: Short = Field(default="", examples=["上海市"])


class InstitutionCreate(Strict):
    id: Ident = Field(examples=["sh-mq-east"])
    name: str = Field(min_length=1, max_length=200, examples=["上海市某区人民医院东院"])
    city: Short = Field(default="", examples=["上海市"])
    group_id: Ident | None = Field(
        default=None, examples=["sh-mq-group"], description="the group it is a site of"
    )
    address: str = Field(default="", max_length=300, examples=["上海市黄浦区某路99号"])


class InstitutionSummary(Out):
    id: str
    name: str
    city: str


class InstitutionGroupPublic(Out):
    id: str
    name: str
    city: str
    sites: list[InstitutionSummary] = Field(default_factory=list)


class InstitutionPublic(Out):
    id: str
    name: str
    city: str
    address: str
    group: InstitutionGroupPublic | None = Field(default=None, description="with every site of the group")
    other_sites: list[InstitutionSummary] = Field(
        default_factory=list, description="the group's other sites: Reg 37 treats them as one institution"
    )


class PoolRowErrorPublic(BaseModel):
    row: int = Field(description="the row of the file, the header being row 1")
    field: str
    reason: str


class PoolImportReport(BaseModel):
    imported: int = Field(description="new experts")
    updated: int = Field(description="experts already in the pool, replaced by their row")
    skipped: int = Field(description="bad rows left out (skip_invalid)")
    errors: list[PoolRowErrorPublic]


class InstitutionImportReport(BaseModel):
    imported: int
    updated: int
    groups_created: int
    errors: list[PoolRowErrorPublic]


class SpecialtyPublic(BaseModel):
    code: str = Field(examples=["obstetrics"])
    label: str = Field(examples=["产科"])
    kind: Literal["clinical", "non_clinical"]
