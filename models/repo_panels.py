"""Data access for consultation panels (Reg 33): panels, draws, invitations, objections, conflicts, and what
the draw needs to know of the pool and the case. Keyword-only functions; the caller commits once."""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Text, cast, func
from sqlmodel import Session, col, select

from core.errors import NotFound
from domain.draw import EXCLUDED_BY_STATUS, Candidate, CaseFacts, Person
from domain.draw import Affiliation as DrawAffiliation
from domain.panel_lifecycle import INVITATION, OPEN_INVITATIONS, PANEL, InvitationStatus, PanelStatus
from models.paging import Keyset, Slice, page
from models.tables import (
    Affiliation,
    Case,
    Conflict,
    Document,
    Draw,
    Expert,
    Institution,
    Invitation,
    Objection,
    Panel,
    Transition,
)

# The statuses of an invitation the expert gave as an answer (for the answer time of the figures): they accepted,
# declined, or declared a conflict (recused) before anyone else did.
ANSWERS = (InvitationStatus.ACCEPTED, InvitationStatus.DECLINED, InvitationStatus.RECUSED)


# ---------------------------------------------------------------- panels ---------------------------------
def create_panel(
    *,
    session: Session,
    panel_id: str,
    case_id: str,
    seq: int,
    specialties: list[str],
    question: str,
    institution_id: str | None,
    requested_by: str,
    at: datetime,
) -> Panel:
    existing = session.get(Panel, panel_id)
    if existing is not None:
        return existing
    panel = Panel(
        id=panel_id, case_id=case_id, seq=seq, specialties=list(specialties), question=question,
        institution_id=institution_id, requested_by=requested_by, requested_at=at, updated_at=at,
    )
    session.add(panel)
    session.flush()
    return panel


def get_panel(*, session: Session, panel_id: str) -> Panel:
    panel = session.get(Panel, panel_id)
    if panel is None:
        raise NotFound(f"panel {panel_id!r} not found")
    return panel


def list_panels(*, session: Session, case_id: str) -> Sequence[Panel]:
    return session.exec(select(Panel).where(Panel.case_id == case_id).order_by(col(Panel.seq))).all()


def update_panel(
    *,
    session: Session,
    panel_id: str,
    status: str,
    unfilled_slots: list[int],
    at: datetime,
    meeting: dict[str, Any] | None = None,
    opinion_version: int | None = None,
) -> Panel:
    panel = get_panel(session=session, panel_id=panel_id)
    if panel.status != status:  # the panel's lifecycle says whether it may (domain/panel_lifecycle.py)
        panel.status = PANEL.move(panel.status, status)
    panel.unfilled_slots = sorted(unfilled_slots)
    if meeting is not None:
        panel.meeting = meeting
    if opinion_version is not None:
        panel.opinion_version = opinion_version
    panel.updated_at = at
    session.add(panel)
    session.flush()
    return panel


def close_panel(*, session: Session, panel_id: str, at: datetime, reason: str) -> int:
    """The case left mediation: open invitations are cancelled (the experts are free again); a part of the
    opinion already given stays."""
    cancelled = 0
    for invitation in invitations_of_panel(session=session, panel_id=panel_id):
        opinion_given = invitation.opinion is not None
        if INVITATION.allows(invitation.status, "cancel", opinion_given=opinion_given):
            invitation.status = INVITATION.next(invitation.status, "cancel", opinion_given=opinion_given)
            invitation.reason = reason
            session.add(invitation)
            cancelled += 1
    update_panel(session=session, panel_id=panel_id, status=PanelStatus.CLOSED,
                 unfilled_slots=get_panel(session=session, panel_id=panel_id).unfilled_slots, at=at)
    return cancelled


# ---------------------------------------------------------------- what the draw knows ---------------------
def respondent_institutions(*, session: Session, panel: Panel) -> tuple[set[str], list[str]]:
    """The respondent institution and every site of its group (Reg 37), by the registry id the case is linked to
    (rev 2: never matched by name; a consultation needs the link). A warning when that id has since left the
    registry, so that staff know the affiliations could not be checked."""
    if not panel.institution_id:
        return set(), ["被申请机构未关联专家库机构名录，未能核对专家的任职回避（《医疗纠纷预防和处理条例》第三十七条）"]
    institution = session.get(Institution, panel.institution_id)
    if institution is None:
        return set(), [f"机构编号 {panel.institution_id} 不在专家库机构名录中，未能核对专家的任职回避"]
    ids = {institution.id}
    if institution.group_id:
        ids |= set(session.exec(select(Institution.id).where(Institution.group_id == institution.group_id)).all())
    return ids, []


def _people(registration: dict[str, Any]) -> tuple[Person, ...]:
    """The patient side and the institution's representatives: an expert who is one of them is a party."""
    patient = registration.get("patient", {})
    people = [Person(patient.get("name", ""), patient.get("id_number"))]
    people += [Person(r.get("name", ""), r.get("id_number")) for r in registration.get("patient_representatives", [])]
    institution = registration.get("institution", {})
    people += [Person(institution[k]) for k in ("legal_representative", "agent") if institution.get(k)]
    return tuple(p for p in people if p.name or p.id_number)


def case_facts(*, session: Session, case: Case, panel: Panel, city: str) -> tuple[CaseFacts, dict[str, Any]]:
    """What the draw must know of the case and the panel, and its record for the draw's file."""
    institution_ids, warnings = respondent_institutions(session=session, panel=panel)
    conflicted = set(session.exec(select(Conflict.expert_id).where(Conflict.case_id == case.id)).all())
    answered: dict[str, str] = {}
    on_panel: set[str] = set()
    for invitation in session.exec(select(Invitation).where(Invitation.case_id == case.id)).all():
        if invitation.status in EXCLUDED_BY_STATUS:
            answered.setdefault(invitation.expert_id, EXCLUDED_BY_STATUS[invitation.status])
        elif invitation.panel_id == panel.id and invitation.status in OPEN_INVITATIONS:
            on_panel.add(invitation.expert_id)
    facts = CaseFacts(
        institution_ids=frozenset(institution_ids),
        people=_people(case.registration),
        conflicted=frozenset(conflicted),
        answered=answered,
        on_this_panel=frozenset(on_panel),
    )
    record = {
        "institution_ids": sorted(institution_ids),
        "respondent": case.registration.get("institution", {}).get("name", ""),
        "people": len(facts.people),
        "warnings": warnings,
    }
    return facts, record


def current_loads(*, session: Session) -> dict[str, int]:
    """Concurrent assignments per expert: invitations open and not yet answered with an opinion."""
    rows = session.exec(
        select(Invitation.expert_id, func.count())
        .where(col(Invitation.status).in_(OPEN_INVITATIONS), col(Invitation.opinion_at).is_(None))
        .group_by(Invitation.expert_id)
    ).all()
    return {expert_id: int(n) for expert_id, n in rows}


def candidates(*, session: Session, city: str, specialty: str) -> list[Candidate]:
    """The city's experts of `specialty` as the draw sees them (Reg 35: the pool is the city's). Plain rows,
    not ORM objects, and only the specialty's experts: a city pool holds tens of thousands."""
    has_specialty = cast(col(Expert.specialties), Text).contains(f'"{specialty}"', autoescape=True)
    rows = [
        row for row in session.exec(
            select(Expert.id, Expert.name, Expert.specialties, Expert.active, Expert.max_concurrent,
                   Expert.id_number, Expert.relatives).where(Expert.city == city, has_specialty)
        ).all()
        if specialty in row[2]  # the text match only narrows; the JSON decides
    ]
    if not rows:
        return []
    affiliations: dict[str, list[DrawAffiliation]] = defaultdict(list)
    for expert_id, institution_id, started_on, ended_on in session.exec(
        select(Affiliation.expert_id, Affiliation.institution_id, Affiliation.started_on, Affiliation.ended_on)
        .join(Expert, col(Expert.id) == col(Affiliation.expert_id))
        .where(Expert.city == city, has_specialty)
    ).all():
        affiliations[expert_id].append(DrawAffiliation(institution_id, started_on, ended_on))
    loads = current_loads(session=session)
    return [
        Candidate(
            id=expert_id,
            name=name,
            specialties=frozenset(specialties),
            active=active,
            load=loads.get(expert_id, 0),
            cap=cap,
            id_number=id_number,
            relatives=tuple(Person(r.get("name", ""), r.get("id_number")) for r in relatives),
            affiliations=tuple(affiliations.get(expert_id, ())),
        )
        for expert_id, name, specialties, active, cap, id_number, relatives in rows
    ]


# ---------------------------------------------------------------- draws -----------------------------------
def find_draw(*, session: Session, panel_id: str, slot: int, attempt: int) -> Draw | None:
    return session.exec(
        select(Draw).where(Draw.panel_id == panel_id, Draw.slot == slot, Draw.attempt == attempt)
    ).first()


def get_draw(*, session: Session, draw_id: str) -> Draw:
    draw = session.get(Draw, draw_id)
    if draw is None:
        raise NotFound(f"draw {draw_id!r} not found")
    return draw


def draws_of_panel(*, session: Session, panel_id: str) -> Sequence[Draw]:
    return session.exec(
        select(Draw).where(Draw.panel_id == panel_id).order_by(col(Draw.slot), col(Draw.attempt))
    ).all()


# ---------------------------------------------------------------- invitations -----------------------------
def get_invitation(*, session: Session, invitation_id: str) -> Invitation:
    invitation = session.get(Invitation, invitation_id)
    if invitation is None:
        raise NotFound(f"invitation {invitation_id!r} not found")
    return invitation


def invitations_of_panel(*, session: Session, panel_id: str) -> Sequence[Invitation]:
    return session.exec(
        select(Invitation).where(Invitation.panel_id == panel_id)
        .order_by(col(Invitation.slot), col(Invitation.invited_at))
    ).all()


INVITATIONS_ORDER = Keyset("invitations", (col(Invitation.invited_at), col(Invitation.id)), ("time", "text"),
                           descending=True)


def invitations_of_expert(
    *, session: Session, expert_id: str, status: str | None = None, limit: int = 100, cursor: str | None = None,
    offset: int = 0, count: bool = False,
) -> Slice:
    """An expert's invitations, newest first, a page after `cursor`."""
    query = select(Invitation).where(Invitation.expert_id == expert_id)
    if status:
        query = query.where(Invitation.status == status)
    return page(session, query, INVITATIONS_ORDER, limit=limit, cursor=cursor, offset=offset, count=count)


def change_invitation(*, session: Session, change: Any) -> bool:
    """Applies an InvitationChange once; False when it was applied before (a retried activity). A move the
    invitation's lifecycle refuses raises IllegalTransition or RuleViolated (domain/panel_lifecycle.py)."""
    invitation = get_invitation(session=session, invitation_id=change.invitation_id)
    opinion_given = invitation.opinion is not None
    if change.opinion is not None:
        if opinion_given:
            return False
        INVITATION.next(invitation.status, "give_opinion", opinion_given=False)
        invitation.opinion, invitation.opinion_at = dict(change.opinion), change.at
    elif invitation.status == change.status:
        return False
    else:
        status = INVITATION.move(invitation.status, change.status, opinion_given=opinion_given, reason=change.reason)
        if invitation.answered_at is None and status in ANSWERS:
            invitation.answered_at = change.at
        if status == InvitationStatus.ACCEPTED:
            invitation.accepted_at = change.at
        invitation.status, invitation.reason = status, change.reason
    session.add(invitation)
    if change.conflict_source:
        session.add(Conflict(expert_id=invitation.expert_id, case_id=invitation.case_id,
                             source=change.conflict_source, reason=change.reason, at=change.at))
    if change.objection_id:
        objection = session.get(Objection, change.objection_id)
        if objection is not None and objection.decision is None:
            objection.decision, objection.decided_at = "upheld", change.at
            session.add(objection)
    session.flush()
    return True


def experts_by_id(*, session: Session, expert_ids: set[str]) -> dict[str, Expert]:
    if not expert_ids:
        return {}
    return {e.id: e for e in session.exec(select(Expert).where(col(Expert.id).in_(expert_ids))).all()}


def supersede_opinions(*, session: Session, case_id: str, panel_id: str, before_seq: int) -> None:
    """A new version of a panel's opinion replaces the earlier ones (kept, marked superseded)."""
    earlier = set(session.exec(
        select(Transition.seq).where(Transition.case_id == case_id, Transition.event == "record_expert_opinion",
                                     col(Transition.seq) < before_seq)
    ).all())
    for doc in session.exec(select(Document).where(Document.case_id == case_id, Document.kind == "expert_opinion")):
        if doc.source_seq in earlier and not doc.superseded:
            transition = session.exec(
                select(Transition).where(Transition.case_id == case_id, Transition.seq == doc.source_seq)
            ).one()
            if transition.payload.get("panel_id") == panel_id:
                doc.superseded = True
                session.add(doc)
    session.flush()


# ---------------------------------------------------------------- objections (回避申请) --------------------
def add_objection(*, session: Session, objection: Objection) -> Objection:
    session.add(objection)
    session.flush()
    return objection


def get_objection(*, session: Session, objection_id: str) -> Objection:
    objection = session.get(Objection, objection_id)
    if objection is None:
        raise NotFound(f"objection {objection_id!r} not found")
    return objection


def objections_of_panel(*, session: Session, panel_id: str) -> Sequence[Objection]:
    return session.exec(
        select(Objection).where(Objection.panel_id == panel_id).order_by(col(Objection.recorded_at))
    ).all()


def decide_objection(
    *, session: Session, objection_id: str, decision: str, by: str, reason: str, at: datetime
) -> Objection:
    objection = get_objection(session=session, objection_id=objection_id)
    objection.decision = objection.decision or decision
    objection.decided_by, objection.decision_reason = by, reason
    objection.decided_at = objection.decided_at or at
    session.add(objection)
    session.flush()
    return objection


# ---------------------------------------------------------------- figures ---------------------------------
def _hours(invitation: Invitation) -> float | None:
    if invitation.answered_at is None:
        return None
    return (invitation.answered_at - invitation.invited_at).total_seconds() / 3600


def _figures(invitations: list[Invitation], load: int) -> dict[str, Any]:
    counts = Counter(i.status for i in invitations)
    accepted = sum(1 for i in invitations if i.accepted_at is not None)
    answered = accepted + counts[InvitationStatus.DECLINED] + counts[InvitationStatus.EXPIRED] + sum(
        1 for i in invitations
        if i.status == InvitationStatus.RECUSED and i.accepted_at is None and i.answered_at is not None
    )
    hours = [h for h in (_hours(i) for i in invitations) if h is not None]
    return {
        "invitations": len(invitations),
        "accepted": accepted,
        "declined": counts[InvitationStatus.DECLINED],
        "expired": counts[InvitationStatus.EXPIRED],
        "recused": counts[InvitationStatus.RECUSED],
        "voided": counts[InvitationStatus.VOIDED],
        "acceptance_rate": round(accepted / answered, 4) if answered else None,
        "median_answer_hours": round(statistics.median(hours), 2) if hours else None,
        "current_load": load,
    }


def expert_figures(
    *, session: Session, city: str | None = None, specialty: str | None = None
) -> list[dict[str, Any]]:
    """Per expert: invitations, acceptance rate, median answer time, current load."""
    query = select(Expert)
    if city:
        query = query.where(Expert.city == city)
    experts = [e for e in session.exec(query.order_by(col(Expert.id))).all()
               if specialty is None or specialty in e.specialties]
    by_expert: dict[str, list[Invitation]] = defaultdict(list)
    for invitation in session.exec(select(Invitation).where(Invitation.status != InvitationStatus.CANCELLED)).all():
        by_expert[invitation.expert_id].append(invitation)
    loads = current_loads(session=session)
    return [
        {"expert_id": e.id, "name": e.name, "specialties": list(e.specialties), "active": e.active,
         "cap": e.max_concurrent, **_figures(by_expert.get(e.id, []), loads.get(e.id, 0))}
        for e in experts
    ]


def specialty_figures(*, session: Session, city: str | None = None) -> list[dict[str, Any]]:
    """Per specialty: the experts of the pool, and their invitations as above (by the invitation's specialty)."""
    query = select(Expert)
    if city:
        query = query.where(Expert.city == city)
    experts = session.exec(query).all()
    in_city = {e.id for e in experts}
    pool: Counter[str] = Counter()
    active: Counter[str] = Counter()
    for e in experts:
        for s in e.specialties:
            pool[s] += 1
            active[s] += e.active
    by_specialty: dict[str, list[Invitation]] = defaultdict(list)
    for invitation in session.exec(select(Invitation).where(Invitation.status != InvitationStatus.CANCELLED)).all():
        if invitation.expert_id in in_city:
            by_specialty[invitation.specialty].append(invitation)
    load_of: Counter[str] = Counter()
    for invitation in session.exec(
        select(Invitation).where(col(Invitation.status).in_(OPEN_INVITATIONS), col(Invitation.opinion_at).is_(None))
    ).all():
        if invitation.expert_id in in_city:
            load_of[invitation.specialty] += 1
    return [
        {"specialty": s, "experts": pool[s], "active_experts": active[s],
         **_figures(by_specialty.get(s, []), load_of[s])}
        for s in sorted(set(pool) | set(by_specialty))
    ]
