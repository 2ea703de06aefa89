"""Activities of the expert panel (Reg 33, 35, 37): the draw, the invitations, the panel's row.

Each one is idempotent. A draw is keyed by (panel, slot, attempt): a retried draw finds the one it recorded and
never draws twice, so the seed that decided is the seed on file. The seed comes from the operating system's
randomness (`secrets`), is recorded with the snapshot of the eligible experts and every exclusion, and the
choice follows from them alone (domain/draw.py), so that anyone can re-run it.
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from sqlmodel import Session
from temporalio import activity
from temporalio.exceptions import ApplicationError

from core.db import SessionFactory, transaction
from core.errors import IllegalTransition, RuleViolated
from domain.clock import legal_date
from domain.draw import ALGORITHM, draw, eligibility
from domain.panel_lifecycle import PanelStatus
from models import repo, repo_panels
from models.tables import Draw, Invitation
from workflows.contracts import DrawOutcome, DrawRequest, InvitationChange, PanelState


class PanelActivities:
    def __init__(self, session_factory: SessionFactory, seed_source: Callable[[], str] | None = None) -> None:
        self._sessions = session_factory
        self._seed = seed_source or (lambda: secrets.token_hex(32))

    @activity.defn
    def draw_slot(self, request: DrawRequest) -> DrawOutcome:
        """Draws one expert for one slot from the city's pool, records the draw and invites the expert."""
        with transaction(self._sessions) as session:
            recorded = repo_panels.find_draw(
                session=session, panel_id=request.panel_id, slot=request.slot, attempt=request.attempt
            )
            if recorded is None:
                recorded = self._draw(session, request)
            invitation = next(
                (i for i in repo_panels.invitations_of_panel(session=session, panel_id=request.panel_id)
                 if i.draw_id == recorded.id),
                None,
            )
            return DrawOutcome(
                draw_id=recorded.id,
                slot=recorded.slot,
                attempt=recorded.attempt,
                expert_id=recorded.result,
                invitation_id=invitation.id if invitation else None,
                eligible=len(recorded.snapshot),
                answer_due_at=invitation.answer_due_at if invitation else None,
            )

    def _draw(self, session: Session, request: DrawRequest) -> Draw:
        panel = repo_panels.get_panel(session=session, panel_id=request.panel_id)
        case = repo.get_case(session=session, case_id=request.case_id)
        committee = repo.get_committee(session=session, committee_id=case.committee_id)
        facts, record = repo_panels.case_facts(session=session, case=case, panel=panel, city=committee.city)
        today = legal_date(request.at)
        pool = repo_panels.candidates(session=session, city=committee.city, specialty=request.specialty)
        found = eligibility(pool, request.specialty, facts, today=today, lookback_years=request.lookback_years)
        seed = self._seed()
        chosen = draw(found.snapshot, seed)
        recorded = Draw(
            id=uuid.uuid4().hex,
            panel_id=request.panel_id,
            case_id=request.case_id,
            slot=request.slot,
            attempt=request.attempt,
            specialty=request.specialty,
            algorithm=ALGORITHM,
            seed=seed,
            snapshot=list(found.snapshot),
            exclusions=[e.to_dict() for e in found.exclusions],
            facts={**record, "city": committee.city, "today": today.isoformat(),
                   "lookback_years": request.lookback_years, "candidates": len(pool)},
            result=chosen,
            at=request.at,
        )
        session.add(recorded)
        session.flush()
        if chosen is not None:
            session.add(
                Invitation(
                    id=uuid.uuid4().hex,
                    panel_id=request.panel_id,
                    case_id=request.case_id,
                    expert_id=chosen,
                    draw_id=recorded.id,
                    slot=request.slot,
                    specialty=request.specialty,
                    invited_at=request.at,
                    answer_due_at=request.answer_due_at,
                )
            )
            session.flush()
        return recorded

    @activity.defn
    def change_invitation(self, change: InvitationChange) -> bool:
        """Records an answer, an expiry, a recusal, a voided part or an opinion; once."""
        with _lawful(), transaction(self._sessions) as session:
            return repo_panels.change_invitation(session=session, change=change)

    @activity.defn
    def save_panel(self, state: PanelState) -> None:
        with _lawful(), transaction(self._sessions) as session:
            if state.status == PanelStatus.CLOSED:
                repo_panels.close_panel(session=session, panel_id=state.panel_id, at=state.at,
                                        reason="案件调解程序已结束")
            else:
                repo_panels.update_panel(
                    session=session, panel_id=state.panel_id, status=state.status,
                    unfilled_slots=state.unfilled_slots, at=state.at, meeting=state.meeting,
                    opinion_version=state.opinion_version,
                )

    def all(self) -> list[Callable]:
        return [self.draw_slot, self.change_invitation, self.save_panel]


@contextmanager
def _lawful() -> Iterator[None]:
    """A move the row's lifecycle refuses (domain/panel_lifecycle.py) fails the activity for good: the workflow
    checked it before, so the row and the workflow disagree, and retrying would not change that."""
    try:
        yield
    except (IllegalTransition, RuleViolated) as err:
        raise ApplicationError(err.detail, err.extra, type=type(err).__name__, non_retryable=True) from None
