"""statistics: what the reports group by (department, kind of dispute, institution's level, harm) and how each case's
mediation ended (day, result, working days, deadline kept, amounts); the indexes the report's ranges read

Revision ID: f3c4d5e6a7b8
Revises: e2b3c4d5f6a7
Create Date: 2026-11-26 16:00:00

The cases on file are registered as `unknown` for the four facts the reports group by: nobody recorded them.

How their mediation ended is filled in from what their rows already hold, for every case past mediation (in
performance, settled, failed, terminated, rejected, archived), a batch of cases at a time, before the indexes are
built (so that the updates do not maintain them):
- the transitions give the event that ended mediation and its day: the last of the four signatures (its
  `to_status` is `performance`: settled, on the agreement's `effective_on` when the row has it), `reject`,
  `record_refusal` and `consent_expired` (rejected: their reasons as bits, reason 1 for a refusal or silence),
  `declare_failed`, `deadline_expired` (on its `due_date`: the deadline's own day), `terminate` (with its ground);
  `confirm_performance` and `record_nonperformance` how performance was closed; the first
  `record_judicial_confirmation` that says the parties applied, the day they did;
- the `agreement` column the effective agreement's monetary terms, summed by payer (the registration's insurer when
  a term names it, the institution when it names it, says 医方 or names nobody, another payer otherwise); the
  `payments` column what was paid;
- the `clock` column (the Reg 38 ledger) the working days used to the end and paused for appraisals, and whether the
  end came within the period; counted with the working-day calendar (domain/clock.py: chinesecalendar and the years
  loaded into `calendar_years`). A case without a ledger (written before the clocks were kept) keeps these null.

The rules are written out here rather than imported, so that the revision keeps doing what it did when the rules
that write the columns change; only the calendar and the ledger, which are the law's data, come from domain/clock.py.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
import sqlmodel
from alembic import op

from domain.clock import ClockError, MediationClock, WorkingDayCalendar, YearTable

revision: str = "f3c4d5e6a7b8"
down_revision: str | None = "e2b3c4d5f6a7"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BATCH = 500
ZONE = timezone(timedelta(hours=8))  # Asia/Shanghai, as domain/time.py defines it
PAST_MEDIATION = ("performance", "settled", "failed", "terminated", "rejected", "archived")
ENDINGS = {"reject": "rejected", "record_refusal": "rejected", "consent_expired": "rejected",
           "declare_failed": "failed_declared", "deadline_expired": "failed_deadline", "terminate": "terminated"}
PERFORMANCE = {"confirm_performance": "performed", "record_nonperformance": "referred_to_court"}
READ = (*ENDINGS, *PERFORMANCE, "sign", "record_judicial_confirmation")
INSTITUTION_WORDS = {"医方", "院方", "医院", "被申请人", "医疗机构"}
INDEXES = (
    ("cases", "ix_cases_committee_accepted", ["committee_id", "accepted_at"]),
    ("cases", "ix_cases_accepted", ["accepted_at"]),
    ("cases", "ix_cases_committee_ended", ["committee_id", "ended_on"]),
    ("cases", "ix_cases_ended", ["ended_on"]),
    ("cases", "ix_cases_committee_judicial", ["committee_id", "judicial_applied_on"]),
    ("transitions", "ix_transitions_event_at", ["event", "at"]),
    ("invitations", "ix_invitations_opinion_at", ["opinion_at"]),
)


def upgrade() -> None:
    with op.batch_alter_table("cases", schema=None) as batch_op:
        for name, length in (("department", 40), ("dispute_kind", 32), ("institution_level", 16), ("harm", 16)):
            batch_op.add_column(sa.Column(name, sqlmodel.sql.sqltypes.AutoString(length=length), nullable=False,
                                          server_default="unknown"))
        batch_op.add_column(sa.Column("ended_on", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("result", sqlmodel.sql.sqltypes.AutoString(length=24), nullable=True))
        batch_op.add_column(sa.Column("termination_ground", sqlmodel.sql.sqltypes.AutoString(length=40),
                                      nullable=True))
        batch_op.add_column(sa.Column("rejection_reasons", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("performance_result", sqlmodel.sql.sqltypes.AutoString(length=24),
                                      nullable=True))
        batch_op.add_column(sa.Column("duration_wd", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("appraisal_wd", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("deadline_kept", sa.Boolean(), nullable=True))
        for name in ("agreed_amount", "agreed_institution", "agreed_insurer", "agreed_other"):
            batch_op.add_column(sa.Column(name, sa.Numeric(precision=14, scale=2), nullable=True))
        batch_op.add_column(sa.Column("paid_amount", sa.Numeric(precision=14, scale=2), nullable=False,
                                      server_default="0"))
        batch_op.add_column(sa.Column("judicial_applied_on", sa.Date(), nullable=True))
    _fill_endings()
    for table, name, columns in INDEXES:
        op.create_index(name, table, columns, unique=False)


def downgrade() -> None:
    for table, name, _ in reversed(INDEXES):
        op.drop_index(name, table_name=table)
    with op.batch_alter_table("cases", schema=None) as batch_op:
        for name in ("judicial_applied_on", "paid_amount", "agreed_other", "agreed_insurer", "agreed_institution",
                     "agreed_amount", "deadline_kept", "appraisal_wd", "duration_wd", "performance_result",
                     "rejection_reasons", "termination_ground", "result", "ended_on", "harm", "institution_level",
                     "dispute_kind", "department"):
            batch_op.drop_column(name)


# ---------------------------------------------------------------- the cases on file ------------------
def _fill_endings() -> None:
    connection = op.get_bind()
    calendar = WorkingDayCalendar({
        int(year): YearTable.from_dict(_json(table))
        for year, table in connection.execute(sa.text("SELECT year, CAST(\"table\" AS TEXT) FROM calendar_years"))
    })
    statuses = ", ".join(f"'{s}'" for s in PAST_MEDIATION)
    events = ", ".join(f"'{e}'" for e in READ)
    after = ""
    while True:
        rows = connection.execute(sa.text(
            "SELECT id, CAST(registration AS TEXT), CAST(agreement AS TEXT), CAST(payments AS TEXT), "
            f"CAST(clock AS TEXT), effective_on FROM cases WHERE status IN ({statuses}) AND id > :after "
            "ORDER BY id LIMIT :limit"), {"after": after, "limit": BATCH}).all()
        if not rows:
            return
        after = rows[-1][0]
        transitions: dict[str, list[Any]] = {}
        for case_id, event, to_status, at, payload in connection.execute(
                sa.text(f"SELECT case_id, event, to_status, at, CAST(payload AS TEXT) FROM transitions "
                        f"WHERE case_id IN :ids AND event IN ({events}) ORDER BY case_id, seq")
                .bindparams(sa.bindparam("ids", expanding=True)), {"ids": [r[0] for r in rows]}):
            transitions.setdefault(case_id, []).append((event, to_status, _instant(at), _json(payload) or {}))
        updates = [ending(row, transitions.get(row[0], []), calendar) for row in rows]
        connection.execute(sa.text(
            "UPDATE cases SET ended_on = :ended_on, result = :result, termination_ground = :ground, "
            "rejection_reasons = :reasons, performance_result = :performance, duration_wd = :duration, "
            "appraisal_wd = :appraisal, deadline_kept = :kept, agreed_amount = :agreed, "
            "agreed_institution = :institution, agreed_insurer = :insurer, agreed_other = :other, "
            "paid_amount = :paid, judicial_applied_on = :judicial WHERE id = :id").bindparams(
            sa.bindparam("ended_on", type_=sa.Date()), sa.bindparam("judicial", type_=sa.Date()),
            *(sa.bindparam(n, type_=sa.Numeric(14, 2)) for n in ("agreed", "institution", "insurer", "other", "paid")),
            sa.bindparam("kept", type_=sa.Boolean())), updates)


def ending(row: Any, transitions: list[Any], calendar: WorkingDayCalendar) -> dict[str, Any]:
    """The statistics' columns of one case past mediation, from its row and its transitions (seq order)."""
    case_id, registration_text, agreement_text, payments_text, clock_text, effective_on = row
    registration = _json(registration_text) or {}
    found: dict[str, Any] = {"id": case_id, "ended_on": None, "result": None, "ground": None, "reasons": 0,
                             "performance": None, "duration": None, "appraisal": None, "kept": None,
                             "agreed": None, "institution": None, "insurer": None, "other": None,
                             "paid": sum((Decimal(str(p["amount"])) for p in _json(payments_text) or []
                                          if isinstance(p, dict) and p.get("amount") is not None), Decimal("0.00")),
                             "judicial": None}
    for event, to_status, at, payload in transitions:
        if event in PERFORMANCE:
            found["performance"] = PERFORMANCE[event]
        elif event == "record_judicial_confirmation" and payload.get("applied") and found["judicial"] is None:
            found["judicial"] = _day(payload.get("applied_on")) or at.astimezone(ZONE).date()
        if found["result"] is not None:
            continue
        if event == "sign" and to_status == "performance":
            found["result"] = "settled"
            found["ended_on"] = _day(effective_on) or at.astimezone(ZONE).date()
        elif event in ENDINGS:
            found["result"] = ENDINGS[event]
            found["ended_on"] = (_day(payload.get("due_date")) if event in ("deadline_expired", "consent_expired")
                                 else None) or at.astimezone(ZONE).date()
            if event in ("reject", "consent_expired"):
                reasons = [int(r) for r in payload.get("reasons", []) if str(r).isdigit() and 1 <= int(r) <= 8]
                found["reasons"] = sum(1 << (r - 1) for r in set(reasons or [1]))
            elif event == "record_refusal":
                found["reasons"] = 1
            elif event == "terminate":
                found["ground"] = payload.get("ground")
    if found["result"] == "settled":
        found.update(_amounts(_json(agreement_text) or {}, registration))
    if found["ended_on"] is not None:
        found.update(_timed(_json(clock_text), found["ended_on"], found["result"], calendar))
    return found


def _amounts(agreement: dict[str, Any], registration: dict[str, Any]) -> dict[str, Any]:
    institution = _name((registration.get("institution") or {}).get("name"))
    insurer = _name((registration.get("insurer") or {}).get("name"))
    sums = {"institution": Decimal("0.00"), "insurer": Decimal("0.00"), "other": Decimal("0.00")}
    monetary = False
    for term in agreement.get("terms") or []:
        if not isinstance(term, dict) or term.get("amount") is None:
            continue
        monetary = True
        payer = _name(term.get("payer"))
        kind = "insurer" if insurer and payer == insurer else "institution" if (
            not payer or payer == institution or payer in INSTITUTION_WORDS) else "other"
        sums[kind] += Decimal(str(term["amount"]))
    if not monetary:
        return {}
    return {**sums, "agreed": sum(sums.values(), Decimal("0.00"))}


def _timed(clock: Any, ended: date, result: str, calendar: WorkingDayCalendar) -> dict[str, Any]:
    """Reg 38: working days used from acceptance to the end, paused for appraisals, and the period kept."""
    if not isinstance(clock, dict) or not clock.get("accepted_on"):
        return {}
    try:
        ledger = MediationClock.from_dict(clock)
    except ClockError:
        return {}
    assert ledger.accepted_on is not None
    ended = max(ended, ledger.accepted_on)
    used = ledger.used(calendar, ended).days
    appraisal = None
    for pause in ledger.pauses:
        if pause.started_on <= ended:
            stop = min(pause.ended_on or ended, ended)
            appraisal = (appraisal or 0) + calendar.working_days_after(pause.started_on, stop).days
    return {"duration": used, "appraisal": appraisal,
            "kept": result != "failed_deadline" and used <= ledger.total_budget}


def _name(text: Any) -> str:
    """A name as domain/parties.py compares names: NFKC, no spaces, Latin letters in lower case."""
    import unicodedata

    folded = unicodedata.normalize("NFKC", str(text or ""))
    return "".join(ch for ch in folded if not ch.isspace()).casefold()


def _json(text: Any) -> Any:
    if text is None or not isinstance(text, str):
        return text
    try:
        return json.loads(text)
    except ValueError:
        return None


def _day(value: Any) -> date | None:
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    try:
        return date.fromisoformat(str(value)[:10]) if value else None
    except ValueError:
        return None


def _instant(value: Any) -> datetime:
    """A stored time: aware on PostgreSQL, naive UTC text on SQLite."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value
