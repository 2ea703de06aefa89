"""Every route names its operation: `allow("cases.read")` is the dependency that checks the caller's role (403)
and, when the path names a case or something of a case (a document, a panel, a draw), that the case is within
the caller's reach (404) and, for a change, not archived (409). The rules themselves are in domain/access.py."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import Depends, Request
from sqlmodel import Session

from api.auth import current_caller
from core.errors import IllegalTransition
from domain import access
from domain.access import Caller
from models import repo
from models.tables import Attachment, Case, Document, Draw, Panel

READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# Path parameters that name something of a case, and how to find the case.
_OWNERS: dict[str, tuple[str, Callable[[Session, str], str | None]]] = {
    "case_id": ("case", lambda session, ident: ident),
    "document_id": ("document", lambda session, ident: _attr(session.get(Document, ident), "case_id")),
    "panel_id": ("panel", lambda session, ident: _attr(session.get(Panel, ident), "case_id")),
    "draw_id": ("draw", lambda session, ident: _attr(session.get(Draw, ident), "case_id")),
    "attachment_id": ("attachment", lambda session, ident: _attr(session.get(Attachment, ident), "case_id")),
}
# An expert never reaches a case here; for these the service decides whether they hold a seat that lets them see
# the thing (an attachment: an accepted seat of an open panel of its case, Reg 42), else it is not found.
_EXPERTS_DECIDED_BY_SERVICE = frozenset({"attachment_id"})


def _attr(row: Any, name: str) -> Any:
    return getattr(row, name) if row is not None else None


def _require_reach(session: Session, caller: Caller, case: Case, *, kind: str, ident: str) -> None:
    if not caller.checks_reach or caller.is_dev:
        return
    committee = repo.find_committee(session=session, committee_id=case.committee_id)
    access.require_reach(caller, kind=kind, ident=ident, committee_id=case.committee_id,
                         committee_city=committee.city if committee else "",
                         mediator_ids=repo.assigned_mediators(session=session, case_id=case.id))


def _check_case(request: Request, caller: Caller, event: str) -> None:
    """The case the path names (through a document, panel or draw too): within the caller's reach (else 404),
    and not archived when the request would change something (PML 27: the file is bound)."""
    params = request.path_params
    with request.app.state.session_factory() as session:
        for param, (kind, case_of) in _OWNERS.items():
            if param not in params:
                continue
            case_id = case_of(session, params[param])
            case = session.get(Case, case_id) if case_id else None
            if case is None:
                return  # the service answers 404 in its own words
            request.state.case = case  # read once: the service's pre-check uses this row (known_case)
            if caller.role == "expert" and param in _EXPERTS_DECIDED_BY_SERVICE:
                return
            _require_reach(session, caller, case, kind=kind, ident=params[param])
            if case.status == "archived" and request.method not in READ_METHODS and not _repeat(request, session, case):
                raise IllegalTransition(f"case {case.id!r} is archived: its file is bound and nothing in it "
                                        "changes (PML 27)", state="archived", event=event, allowed=[])
            return


def _repeat(request: Request, session: Session, case: Case) -> bool:
    """A staff action repeated with the Idempotency-Key of one the case recorded: its first answer is given again,
    archived or not (nothing changes)."""
    key = request.headers.get("idempotency-key")
    return bool(key) and repo.transition_by_key(session=session, case_id=case.id, key=key) is not None


def known_case(request: Request, case_id: str) -> Case | None:
    """The case row the reach check read for this request, when it is the one named: a service need not read it
    again (the workflow's validator decides for good on its own state)."""
    case = getattr(request.state, "case", None)
    return case if case is not None and case.id == case_id else None


def require_case_reach(session: Session, caller: Caller, case_id: str) -> None:
    """For a case named outside the path (a query parameter): out of reach reads as missing (404)."""
    case = session.get(Case, case_id)
    if case is not None:
        _require_reach(session, caller, case, kind="case", ident=case_id)


def allow(operation: str) -> Any:
    """The dependency of a route that does `operation`; it gives the route the caller."""
    if operation not in access.PERMISSIONS:
        raise KeyError(f"no such operation in domain/access.py: {operation}")

    def checked_caller(request: Request, caller: Annotated[Caller, Depends(current_caller)]) -> Caller:
        access.require(caller, operation)
        _check_case(request, caller, operation.removeprefix("event.") if operation.startswith("event.") else "")
        return caller

    checked_caller.operation = operation  # type: ignore[attr-defined]  # read by the layer and matrix tests
    return Depends(checked_caller)


def operation_of(dependency: Callable[..., Any]) -> str | None:
    return getattr(dependency, "operation", None)


def committees_by_city(session: Session) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for committee in repo.list_committees(session=session):
        found.setdefault(committee.city, []).append(committee.id)
    return found


def case_scope(session: Session, caller: Caller) -> access.CaseScope:
    return access.case_scope(caller, committees_by_city(session))
