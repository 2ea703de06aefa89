"""A city of its own for each test of the expert pool: a committee, institutions (a group with two sites, and
an unrelated hospital) and the experts a test adds."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from core.db import SessionFactory
from models.tables import Affiliation, Committee, Expert, Institution, InstitutionGroup

RESPONDENT = "上海市某区人民医院"  # the institution of tests/factories.registration()


@dataclass
class City:
    """A city of its own for each test: its committee, its institutions (a group with two sites) and its pool."""

    name: str
    committee_id: str
    respondent: str  # the respondent's main site
    branch: str  # another site of the same group
    elsewhere: str  # an unrelated hospital
    experts: dict[str, Expert] = field(default_factory=dict)


def make_city(sessions: SessionFactory) -> City:
    tag = uuid.uuid4().hex[:8]
    city = City(name=f"测试市{tag}", committee_id=f"c{tag}", respondent=f"i{tag}-main", branch=f"i{tag}-east",
                elsewhere=f"i{tag}-other")
    with sessions() as session:
        session.add(Committee(id=city.committee_id, name=f"{city.name}医疗纠纷人民调解委员会", short_name="测",
                              city=city.name))
        session.add(InstitutionGroup(id=f"g{tag}", name=f"{city.name}某医疗集团", city=city.name))
        session.commit()
        session.add(Institution(id=city.respondent, name=RESPONDENT, city=city.name, group_id=f"g{tag}"))
        session.add(Institution(id=city.branch, name=f"{RESPONDENT}东院", city=city.name, group_id=f"g{tag}"))
        session.add(Institution(id=city.elsewhere, name=f"{city.name}第一人民医院", city=city.name))
        session.commit()
    return city


def add_expert(
    sessions: SessionFactory, city: City, key: str, specialties: list[str], *,
    worked_at: list[tuple[str, date | None, date | None]] = (), **fields: Any,
) -> Expert:
    expert = Expert(id=f"{city.committee_id}-{key}", city=city.name, name=fields.pop("name", f"专家{key}"),
                    title="主任医师", specialties=specialties, **fields)
    with sessions() as session:
        session.add(expert)
        session.commit()
        for institution, started, ended in worked_at:
            session.add(Affiliation(expert_id=expert.id, institution_id=institution, started_on=started,
                                    ended_on=ended))
        session.commit()
        session.refresh(expert)
    city.experts[key] = expert
    return expert
