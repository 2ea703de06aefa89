"""The caller's open tasks (GET /worklist)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from api.access import allow
from api.deps import Cursor, ReleasingRoute, SessionDep
from api.errors import ERROR_RESPONSES
from api.services import worklist
from domain.access import Caller
from domain.worklist import DEFAULT_WITHIN, MAX_WITHIN
from models.schemas_worklist import TaskKindName, WhenName, WorklistPublic

router = APIRouter(route_class=ReleasingRoute, tags=["worklist"], responses=ERROR_RESPONSES)

DESCRIPTION = """
What is due for you: your open tasks on the cases you reach (a mediator: the cases assigned to you; intake staff
and the director: the committee's), most urgent first — overdue ones, then by due day, the tasks without a day
last. Read from the cases' records, never from their workflows.

| kind | whose | a task when |
|---|---|---|
| `review` | director | a case waits for the acceptance decision (due: the review's reminder day) |
| `consent` | intake | the other side's consent was asked for (due: the consent deadline, PML 17) |
| `signatures` | mediator | the agreement is drafted and a party or the mediator has not signed (Reg 39) |
| `seal` | director | the agreement is drafted and the committee seal is missing (Reg 39) |
| `mediation_deadline` | mediator | the Reg 38 period ends within the window |
| `appraisal` | mediator | an open appraisal's status is due to be recorded within the window |
| `payment` | mediator | a term of the agreement is due within the window, or overdue (PML 31) |
| `judicial_confirmation` | mediator | the PML 33 window closes within the window |
| `followup` | mediator | the follow-up visit is due within the window, or overdue |
| `panel_seat` | mediator, director | an expert panel's seat could not be filled from the pool (Reg 33) |

The first four and `panel_seat` are listed whatever their day; the others once their day is within `within`
working days from today (the working-day calendar, loaded years included) or past. Each task carries its due day
(`provisional` when counted through a year the calendar does not know), the working days left (negative:
overdue), `when` (`overdue`, `due_today`, `this_week` — after today, by Sunday —, `later`, `undated`), a label in
Chinese and in English, and the endpoint that does it (`action`, with `alternatives`).

Filters: `kind` and `when`, each repeatable (`?when=overdue&when=due_today`: what must be done today). The counts
(`total`, `by_kind`, `by_when`) are of every task of the window, whatever the filters, for tabs and badges. A page at
a time: follow `next_cursor` with the same parameters.
"""


@router.get("/worklist", summary="Your open tasks, most urgent first: reviews, consents, signatures, the seal, "
            "deadlines within N working days, overdue ones, payments, follow-ups, unfilled panel seats",
            description=DESCRIPTION)
def my_worklist(
    session: SessionDep,
    caller: Annotated[Caller, allow("worklist.read")],
    within: Annotated[int, Query(ge=0, le=MAX_WITHIN, description="the window, in working days from today: "
                                 "deadlines up to its last day are listed (0: today's)")] = DEFAULT_WITHIN,
    kind: Annotated[list[TaskKindName] | None, Query(  # type: ignore[valid-type]
        description="only these kinds (repeatable); a kind that is not your role's answers 422")] = None,
    when: Annotated[list[WhenName] | None, Query(  # type: ignore[valid-type]
        description="only the tasks due so (repeatable): overdue, due_today, this_week, later, undated")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    cursor: Cursor = None,
) -> WorklistPublic:
    return worklist.worklist(session=session, caller=caller, within=within, kinds=kind, whens=when, limit=limit,
                             cursor=cursor)
