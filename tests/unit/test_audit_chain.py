"""The audit trail's hash chain, without a database (domain/audit.py): each entry carries the hash of the one
before it, so that an altered, deleted, inserted or reordered entry is found and named."""

from __future__ import annotations

import dataclasses
import hashlib
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from domain.audit import (
    ALTERED,
    GENESIS,
    UNLINKED,
    canonical,
    entry_hash,
    payload_digest,
    verify_chain,
)

T0 = datetime(2026, 11, 20, 1, 30, 0, 123456, tzinfo=UTC)


@dataclasses.dataclass
class Row:
    id: int
    prev_hash: str
    hash: str
    at: datetime
    actor_id: str
    actor_name: str
    actor_role: str
    committee_id: str | None
    action: str
    target_type: str | None
    target_id: str | None
    request_id: str
    status_code: int | None
    payload_sha256: str

    def fields(self) -> dict[str, Any]:
        return {k: v for k, v in dataclasses.asdict(self).items() if k not in ("id", "prev_hash", "hash")}


def fields(n: int) -> dict[str, Any]:
    return {
        "at": T0 + timedelta(minutes=n),
        "actor_id": f"u{n}",
        "actor_name": "陈调解员",
        "actor_role": "staff",
        "committee_id": "huangpu",
        "action": "POST /cases/{case_id}/accept",
        "target_type": "case_id",
        "target_id": f"case-{n}",
        "request_id": f"req-{n}",
        "status_code": 200,
        "payload_sha256": payload_digest(f"body {n}".encode()),
    }


def chain(length: int) -> list[Row]:
    rows: list[Row] = []
    prev = GENESIS
    for n in range(1, length + 1):
        values = fields(n)
        row = Row(id=n, prev_hash=prev, hash=entry_hash(prev, values), **values)
        rows.append(row)
        prev = row.hash
    return rows


def rehash(row: Row) -> None:
    row.hash = entry_hash(row.prev_hash, row.fields())


class TestTheCanonicalForm:
    def test_keys_are_sorted_and_times_are_utc_with_microseconds(self):
        text = canonical(fields(1)).decode()
        assert text.startswith('{"action":') and text.index('"actor_id"') < text.index('"at"')
        assert '"at":"2026-11-20T01:31:00.123456+00:00"' in text

    def test_the_same_moment_in_shanghai_hashes_as_in_utc(self):
        local = {**fields(1), "at": fields(1)["at"].astimezone(ZoneInfo("Asia/Shanghai"))}
        assert entry_hash(GENESIS, local) == entry_hash(GENESIS, fields(1))

    def test_whole_seconds_still_carry_microseconds(self):
        text = canonical({**fields(1), "at": datetime(2026, 1, 1, tzinfo=UTC)}).decode()
        assert '"at":"2026-01-01T00:00:00.000000+00:00"' in text

    def test_floats_and_naive_times_have_no_canonical_form(self):
        with pytest.raises(TypeError):
            canonical({**fields(1), "status_code": 200.0})
        with pytest.raises(ValueError):
            canonical({**fields(1), "at": datetime(2026, 1, 1)})

    def test_a_missing_field_is_refused(self):
        values = fields(1)
        del values["request_id"]
        with pytest.raises(ValueError, match="request_id"):
            canonical(values)

    def test_the_hash_is_sha256_of_the_previous_hash_and_the_canonical_form(self):
        expected = hashlib.sha256(GENESIS.encode() + canonical(fields(1))).hexdigest()
        assert entry_hash(GENESIS, fields(1)) == expected
        assert GENESIS == "0" * 64

    def test_the_payload_digest_is_sha256_of_the_body(self):
        assert payload_digest(b"") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"


class TestAnIntactChain:
    def test_is_ok_and_every_row_is_checked(self):
        rows = chain(5)
        report = verify_chain(rows)
        assert report.ok and report.checked == 5 and report.first_broken is None
        assert report.head_hash == rows[-1].hash

    def test_an_empty_trail_is_ok(self):
        report = verify_chain([])
        assert report.ok and report.checked == 0 and report.head_hash == GENESIS

    def test_a_stream_is_enough(self):
        assert verify_chain(iter(chain(3))).ok


class TestAnAlteredRow:
    def test_is_the_first_broken_link_and_its_content_is_the_reason(self):
        rows = chain(5)
        rows[2].action = "GET /cases/{case_id}"  # row 3 now claims a read, not an acceptance
        report = verify_chain(rows)
        assert not report.ok
        assert report.first_broken == (3, ALTERED)
        assert report.checked == 3

    @pytest.mark.parametrize("field", ["actor_id", "committee_id", "target_id", "request_id", "payload_sha256"])
    def test_any_recorded_field_counts(self, field):
        rows = chain(4)
        setattr(rows[1], field, "forged")
        assert verify_chain(rows).first_broken == (2, ALTERED)

    def test_a_changed_time_or_status_counts(self):
        rows = chain(4)
        rows[1].at += timedelta(microseconds=1)
        assert verify_chain(rows).first_broken == (2, ALTERED)
        rows = chain(4)
        rows[3].status_code = 409
        assert verify_chain(rows).first_broken == (4, ALTERED)

    def test_rehashed_after_the_change_it_breaks_the_next_rows_link(self):
        rows = chain(5)
        rows[2].actor_id = "someone-else"
        rehash(rows[2])  # the forger recomputed row 3's hash, but row 4 still names the old one
        assert verify_chain(rows).first_broken == (4, UNLINKED)

    def test_a_value_no_entry_could_hold_is_reported_not_raised(self):
        rows = chain(3)
        rows[1].status_code = 200.5  # type: ignore[assignment]  # SQLite would store it in an INTEGER column
        assert verify_chain(rows).first_broken == (2, ALTERED)


class TestADeletedRow:
    def test_breaks_the_link_of_the_row_after_it(self):
        rows = chain(5)
        del rows[2]  # row 3 is gone
        report = verify_chain(rows)
        assert report.first_broken == (4, UNLINKED)
        assert "deleted" in report.first_broken[1]

    def test_the_first_row_deleted_leaves_the_second_without_genesis(self):
        rows = chain(3)
        del rows[0]
        assert verify_chain(rows).first_broken == (2, UNLINKED)

    def test_the_last_rows_deleted_show_only_as_a_different_head(self):
        rows = chain(5)
        head = verify_chain(rows).head_hash
        report = verify_chain(rows[:3])
        assert report.ok and report.head_hash != head  # an auditor's noted head hash reveals the truncation


class TestAnInsertedRow:
    def test_linked_to_its_predecessor_breaks_the_link_of_the_next_row(self):
        rows = chain(4)
        values = {**fields(9), "actor_id": "forger"}
        forged = Row(id=99, prev_hash=rows[1].hash, hash=entry_hash(rows[1].hash, values), **values)
        rows.insert(2, forged)
        assert verify_chain(rows).first_broken == (3, UNLINKED)

    def test_with_a_made_up_link_is_itself_the_broken_row(self):
        rows = chain(4)
        values = fields(9)
        forged = Row(id=99, prev_hash="f" * 64, hash=entry_hash("f" * 64, values), **values)
        rows.insert(2, forged)
        assert verify_chain(rows).first_broken == (99, UNLINKED)

    def test_with_both_a_wrong_link_and_a_wrong_hash_names_both_reasons(self):
        rows = chain(3)
        rows.insert(1, Row(id=99, prev_hash="f" * 64, hash="e" * 64, **fields(9)))
        broken = verify_chain(rows).first_broken
        assert broken is not None and broken[0] == 99
        assert UNLINKED in broken[1] and ALTERED in broken[1]


class TestReorderedRows:
    def test_two_swapped_rows_break_at_the_first_out_of_place(self):
        rows = chain(5)
        rows[2], rows[3] = rows[3], rows[2]  # 1, 2, 4, 3, 5
        assert verify_chain(rows).first_broken == (4, UNLINKED)

    def test_contents_swapped_between_two_ids_break_at_the_lower_id(self):
        rows = chain(5)
        rows[2].id, rows[3].id = rows[3].id, rows[2].id  # ids renumbered, read back in id order
        rows.sort(key=lambda row: row.id)
        assert verify_chain(rows).first_broken == (3, UNLINKED)
