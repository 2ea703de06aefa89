"""Demo data: the committees an embedded installation starts with."""

from __future__ import annotations

from sqlmodel import Session

from models.repo import save_committee
from models.tables import Committee

DEMO_COMMITTEES = (
    Committee(id="huangpu", name="上海市黄浦区医疗纠纷人民调解委员会", short_name="沪黄", city="上海市"),
    Committee(id="xuhui", name="上海市徐汇区医疗纠纷人民调解委员会", short_name="沪徐", city="上海市"),
)


def seed_committees(*, session: Session) -> list[Committee]:
    """Add the demo committees if missing; existing ones are left as they are."""
    added = []
    for committee in DEMO_COMMITTEES:
        if session.get(Committee, committee.id) is None:
            added.append(save_committee(session=session, committee=Committee.model_validate(committee.model_dump())))
    return added
