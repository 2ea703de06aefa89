"""The clock projections of open cases, read and rewritten a page at a time (a loaded calendar year recomputes them
in one batch: api/services/calendar.py). Keyword-only functions; the caller commits.

Only the columns the projection fills are read and written (domain/projection.py `columns`, `next_deadline` with
them, so that the worklists' order follows a loaded year). A row is rewritten
only if its `clock` column still holds the text read with it: a case whose workflow wrote it in between (an event,
a timer) is left as its workflow wrote it, and reported so that its workflow is told instead.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import bindparam, text
from sqlmodel import Session


@dataclass(frozen=True)
class ClockRow:
    """An open case's projection as stored: `clock_text` is the `clock` column's text (compared on rewrite),
    `columns` the other columns the projection fills, the `clock` parsed, and `deadlines_text` the deadline list's
    text (parsed only if a new list is not written the same way)."""

    case_id: str
    clock_text: str | None
    columns: dict[str, Any]
    deadlines_text: str

    @classmethod
    def as_written(cls, case_id: str, columns: dict[str, Any]) -> ClockRow:
        """The row `open_case_clocks` reads once these columns are written (for tests and benchmarks)."""
        text_of_clock = json_text(columns["clock"])
        return cls(case_id=case_id, clock_text=text_of_clock,
                   columns={**{k: v for k, v in columns.items() if k != "deadlines"}, "clock": json.loads(text_of_clock)},
                   deadlines_text=json_text(columns["deadlines"]))

    def holds(self, columns: dict[str, Any]) -> bool:
        """The row holds these columns already (domain/projection.py `columns`)."""
        if any(self.columns[name] != columns[name] for name in self.columns):
            return False
        return json_text(columns["deadlines"]) == self.deadlines_text or (
            json.loads(self.deadlines_text) == columns["deadlines"])


def open_case_clocks(*, session: Session, after: str = "", limit: int = 1000) -> list[ClockRow]:
    """Open cases (not archived: their workflow still runs), by id after `after`, with their projection columns."""
    rows = session.connection().execute(
        text("SELECT id, CAST(clock AS TEXT), due_date, due_provisional, clock_paused, CAST(deadlines AS TEXT), "
             "payment_overdue, effective_on, next_deadline FROM cases WHERE status <> 'archived' AND id > :after "
             "ORDER BY id LIMIT :limit"),
        {"after": after, "limit": limit},
    ).all()
    return [
        ClockRow(
            case_id=case_id,
            clock_text=clock_text,
            columns={
                "clock": json.loads(clock_text) if clock_text is not None else None,
                "due_date": _day(due_date),
                "due_provisional": bool(due_provisional),
                "clock_paused": bool(clock_paused),
                "payment_overdue": bool(payment_overdue),
                "effective_on": _day(effective_on),
                "next_deadline": _day(next_deadline),
            },
            deadlines_text=deadlines if deadlines is not None else "[]",
        )
        for case_id, clock_text, due_date, due_provisional, clock_paused, deadlines, payment_overdue, effective_on,
        next_deadline in rows
    ]


def rewrite_clocks(*, session: Session, rows: Sequence[tuple[str, str, dict[str, Any]]]) -> set[str]:
    """Write each (case id, clock text as read, new columns) whose `clock` still holds that text; returns the ids
    written. PostgreSQL: one UPDATE ... FROM json_to_recordset(the rows as one JSON parameter) RETURNING the ids
    (a JSON text is passed as it is, where a text array would be escaped character by character); SQLite: the same
    UPDATE for each row in one executemany, and when fewer rows changed than were given, the ids whose `clock` now
    holds the new text."""
    if not rows:
        return set()
    params = [{"id": case_id, "old": old, "clock": json_text(c["clock"]), "due": _iso(c["due_date"]),
               "provisional": bool(c["due_provisional"]), "paused": bool(c["clock_paused"]),
               "deadlines": json_text(c["deadlines"]), "overdue": bool(c["payment_overdue"]),
               "effective": _iso(c["effective_on"]), "next": _iso(c["next_deadline"])} for case_id, old, c in rows]
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        statement = text(
            "UPDATE cases AS c SET clock = CAST(v.clock AS json), due_date = v.due, due_provisional = v.provisional, "
            "clock_paused = v.paused, deadlines = CAST(v.deadlines AS json), payment_overdue = v.overdue, "
            "effective_on = v.effective, next_deadline = v.next "
            "FROM json_to_recordset(CAST(:rows AS json)) AS v(id text, old text, clock text, due date, "
            "provisional boolean, paused boolean, deadlines text, overdue boolean, effective date, next date) "
            "WHERE c.id = v.id AND CAST(c.clock AS TEXT) = v.old RETURNING c.id"
        )
        return {case_id for (case_id,) in connection.execute(statement, {"rows": json.dumps(params)})}
    statement = text(
        "UPDATE cases SET clock = :clock, due_date = :due, due_provisional = :provisional, clock_paused = :paused, "
        "deadlines = :deadlines, payment_overdue = :overdue, effective_on = :effective, next_deadline = :next "
        "WHERE id = :id AND CAST(clock AS TEXT) = :old"
    )
    if connection.execute(statement, params).rowcount == len(params):  # executemany: the rows changed, summed
        return {p["id"] for p in params}
    # some row held other text: the rows that now hold the text written are the ones written
    now = dict(connection.execute(
        text("SELECT id, CAST(clock AS TEXT) FROM cases WHERE id IN :ids").bindparams(bindparam("ids", expanding=True)),
        {"ids": [p["id"] for p in params]},
    ).all())
    return {p["id"] for p in params if now.get(p["id"]) == p["clock"]}


def json_text(value: Any) -> str:
    """A JSON column's text as it is written here, and as SQLAlchemy writes it for the workflows' activities
    (`json.dumps`), so that a deadline list that did not change reads back as the same text."""
    return json.dumps(value)


def _day(value: Any) -> date | None:
    """A date column as the driver gives it: a date (psycopg) or its ISO text (SQLite)."""
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(str(value))


def _iso(value: date | None) -> str | None:
    return None if value is None else value.isoformat()
