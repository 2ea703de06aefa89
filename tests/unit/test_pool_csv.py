"""The pool file (domain/pool.py): a city's expert pool (Reg 35) as CSV, checked row by row. Every problem is
reported with its row (the header being row 1) and its column, not only the first; what is exported imports
back unchanged."""

from __future__ import annotations

from datetime import date

import pytest

from domain.pool import (
    COLUMNS,
    AffiliationRow,
    ExpertRow,
    RelativeRow,
    RowError,
    format_pool_csv,
    parse_institutions_csv,
    parse_pool_csv,
)
from domain.specialties import SPECIALTIES
from models.seed_pool import INSTITUTIONS, POOL_CSV

HEADER = ",".join(COLUMNS)
GOOD = "SH-1,上海市,张建华,主任医师,产科,黄浦区,true,3,13916000001,zhang@example.org,,sh-a:2015-01-01:2020-06-30,"


def pool(*lines: str, header: str = HEADER) -> str:
    return "\n".join([header, *lines]) + "\n"


def row(**fields: str) -> str:
    """A good row with some columns replaced."""
    values = dict(zip(COLUMNS, GOOD.split(","), strict=True))
    values.update(fields)
    return ",".join(values[c] for c in COLUMNS)


def errors_of(text: str) -> set[tuple[int, str]]:
    return {(e.row, e.field) for e in parse_pool_csv(text).errors}


def the_error(text: str) -> RowError:
    parsed = parse_pool_csv(text)
    assert len(parsed.errors) == 1, parsed.errors
    assert parsed.rows == []
    return parsed.errors[0]


# ---------------------------------------------------------------- good rows ----------------------------
class TestAGoodRowIsReadIntoATypedExpert:  # Reg 35
    def test_every_column(self):
        parsed = parse_pool_csv(pool(GOOD))
        assert parsed.errors == [] and parsed.total == 1
        assert parsed.rows == [
            ExpertRow(
                id="SH-1", city="上海市", name="张建华", title="主任医师", specialties=("obstetrics",),
                region="黄浦区", active=True, max_concurrent=3, phone="13916000001", email="zhang@example.org",
                affiliations=(AffiliationRow("sh-a", date(2015, 1, 1), date(2020, 6, 30)),),
            )
        ]
        assert parsed.rows[0].row == 2  # the header is row 1

    def test_specialties_are_codes_or_chinese_labels_separated_by_either_semicolon(self):
        (expert,) = parse_pool_csv(pool(row(specialties="产科；gynecology;法学;Law"))).rows
        assert expert.specialties == ("obstetrics", "gynecology", "law")  # repeats dropped, order kept

    def test_an_empty_end_means_the_expert_still_works_there(self):  # Reg 37 looks back from today
        (expert,) = parse_pool_csv(pool(row(affiliations="sh-a:2015-01-01:2020-06-30;sh-b:2021-03-01:"))).rows
        assert expert.affiliations == (
            AffiliationRow("sh-a", date(2015, 1, 1), date(2020, 6, 30)),
            AffiliationRow("sh-b", date(2021, 3, 1), None),
        )

    def test_relatives_with_or_without_an_identity_number(self):  # Reg 37: a relative of a party
        (expert,) = parse_pool_csv(pool(row(relatives="王芳:配偶:31010119720520002x;张小明:子"))).rows
        assert expert.relatives == (RelativeRow("王芳", "配偶", "31010119720520002X"), RelativeRow("张小明", "子"))

    def test_optional_columns_may_be_left_out_and_get_their_defaults(self):
        parsed = parse_pool_csv("id,city,name,specialties\nSH-2,上海市,李律师,法学\n")
        (expert,) = parsed.rows
        assert expert.active is True and expert.max_concurrent == 3 and expert.affiliations == ()

    @pytest.mark.parametrize(("value", "active"), [("false", False), ("否", False), ("0", False), ("", True),
                                                   ("是", True), ("TRUE", True)])
    def test_active_flag(self, value, active):
        (expert,) = parse_pool_csv(pool(row(active=value))).rows
        assert expert.active is active

    def test_a_byte_order_mark_and_blank_lines_are_ignored(self):
        parsed = parse_pool_csv("\ufeff" + pool(GOOD, "", row(id="SH-3")))
        assert [e.id for e in parsed.rows] == ["SH-1", "SH-3"] and parsed.errors == []
        assert parsed.rows[1].row == 4

    def test_the_demo_pool_is_a_valid_file_of_sixty_experts_in_every_field_the_brief_names(self):
        parsed = parse_pool_csv(POOL_CSV)
        assert parsed.errors == [] and len(parsed.rows) == 60
        covered = {code for expert in parsed.rows for code in expert.specialties}
        assert {"obstetrics", "gynecology", "general_surgery", "orthopedics", "cardiology", "pediatrics",
                "anesthesiology", "law", "forensic_medicine", "pharmacy", "nursing", "psychology"} <= covered
        known = {i.id for i in INSTITUTIONS}
        assert {a.institution_id for e in parsed.rows for a in e.affiliations} <= known


# ---------------------------------------------------------------- every error, with row and field -------
class TestEveryBadRowIsNamedWithItsRowAndField:
    def test_unknown_specialty(self):
        error = the_error(pool(row(specialties="产科;骨头科")))
        assert (error.row, error.field) == (2, "specialties") and "骨头科" in error.reason

    def test_at_least_one_specialty(self):  # Reg 33: a panel is asked for by specialty
        assert the_error(pool(row(specialties=""))).field == "specialties"

    @pytest.mark.parametrize(
        "value", ["sh-a:2020-13-01:", "sh-a:2020/01/01:", "sh-a::20200101", "sh-a:1850-01-01:"]
    )
    def test_bad_date(self, value):
        error = the_error(pool(row(affiliations=value)))
        assert (error.row, error.field) == (2, "affiliations") and "date" in error.reason

    def test_end_before_start(self):
        error = the_error(pool(row(affiliations="sh-a:2021-03-01:2020-06-30")))
        assert error.field == "affiliations" and "before it starts" in error.reason

    def test_bad_institution_id_or_too_many_parts(self):
        text = pool(row(affiliations="医院:2020-01-01:"), row(id="SH-4", affiliations="a:b:c:d"))
        assert errors_of(text) == {(2, "affiliations"), (3, "affiliations")}

    def test_duplicate_id_in_the_file_names_the_first_row(self):
        parsed = parse_pool_csv(pool(GOOD, row(name="另一人")))
        assert [(e.row, e.field) for e in parsed.errors] == [(3, "id")]
        assert "first at row 2" in parsed.errors[0].reason
        assert [e.row for e in parsed.rows] == [2]  # the first one stays good

    @pytest.mark.parametrize("value", ["abc", "1380013800a", "12"])
    def test_bad_phone(self, value):
        assert the_error(pool(row(phone=value))).field == "phone"

    @pytest.mark.parametrize(
        "value", ["12345", "31010119800101123", "3101011980010112345", "31010119800101123Y"]
    )
    def test_bad_identity_number(self, value):
        assert the_error(pool(row(id_number=value))).field == "id_number"

    def test_bad_identity_number_of_a_relative(self):
        assert the_error(pool(row(relatives="王芳:配偶:123"))).field == "relatives"

    def test_a_relative_needs_a_name_and_a_relation(self):
        assert the_error(pool(row(relatives="王芳"))).field == "relatives"

    @pytest.mark.parametrize("value", ["0", "-1", "51", "three", "2.5"])
    def test_cap_below_one_or_not_a_number(self, value):  # the cap on concurrent assignments
        assert the_error(pool(row(max_concurrent=value))).field == "max_concurrent"

    def test_bad_active_flag(self):
        assert the_error(pool(row(active="maybe"))).field == "active"

    def test_bad_email(self):
        assert the_error(pool(row(email="zhang@"))).field == "email"

    def test_bad_expert_id(self):
        assert the_error(pool(row(id="SH 1/2"))).field == "id"

    def test_required_fields(self):
        assert errors_of(pool(row(id="", city="", name=""))) == {(2, "id"), (2, "city"), (2, "name")}

    def test_too_long_a_name(self):
        assert the_error(pool(row(name="张" * 101))).field == "name"

    def test_too_many_fields(self):
        assert the_error(pool(GOOD + ",extra")).field == "row"

    def test_all_errors_are_collected_not_only_the_first(self):
        text = pool(
            row(specialties="骨头科", phone="abc", max_concurrent="0"),
            row(id="SH-5"),
            row(id="SH-6", affiliations="sh-a:2021-01-01:2020-01-01", id_number="1"),
            row(id="SH-5"),
        )
        parsed = parse_pool_csv(text)
        assert {(e.row, e.field) for e in parsed.errors} == {
            (2, "specialties"), (2, "phone"), (2, "max_concurrent"),
            (4, "affiliations"), (4, "id_number"),
            (5, "id"),
        }
        assert [e.id for e in parsed.rows] == ["SH-5"] and parsed.bad_rows == 3 and parsed.total == 4


class TestABadFileIsRefusedAtTheHeader:
    def test_empty_file(self):
        assert errors_of("") == {(1, "file")}

    def test_required_columns_missing(self):
        assert errors_of("id,name\nSH-1,张\n") == {(1, "city"), (1, "specialties")}

    def test_unknown_or_repeated_column(self):
        assert errors_of(HEADER + ",salary,name\n") == {(1, "salary"), (1, "name")}


# ---------------------------------------------------------------- round trip ---------------------------
class TestExportImportsBackUnchanged:
    def test_round_trip_of_every_kind_of_value(self):
        experts = [
            ExpertRow(id="A-1", city="上海市", name="张建华", specialties=("obstetrics", "law"), title="主任医师",
                      region="黄浦区", active=False, max_concurrent=7, phone="+86 139-1600-0001",
                      email="a@example.org", id_number="31010119700315001X",
                      affiliations=(AffiliationRow("sh-a", date(2015, 1, 1), date(2020, 6, 30)),
                                    AffiliationRow("sh-b", date(2021, 3, 1)), AffiliationRow("sh-c")),
                      relatives=(RelativeRow("王芳", "配偶", "310101197205200026"), RelativeRow("张三", "子"))),
            ExpertRow(id="A-2", city="上海市", name='名字,带"引号"', specialties=tuple(SPECIALTIES)[:10]),
        ]
        text = format_pool_csv(experts)
        parsed = parse_pool_csv(text)
        assert parsed.errors == [] and parsed.rows == experts
        assert format_pool_csv(parsed.rows) == text

    def test_the_demo_pool_round_trips(self):
        rows = parse_pool_csv(POOL_CSV).rows
        assert parse_pool_csv(format_pool_csv(rows)).rows == rows


# ---------------------------------------------------------------- institutions --------------------------
class TestInstitutionsFile:  # Reg 37: the sites of a medical group are one institution for conflicts
    def test_sites_of_a_group(self):
        parsed = parse_institutions_csv(
            "id,name,city,group_id,group_name,address\n"
            "h-1,上海市某区人民医院,上海市,g-1,上海市某区医疗集团,某路1号\n"
            "h-2,上海市某区人民医院东院,上海市,g-1,,\n"
            "h-3,上海某医院,上海市,,,\n"
        )
        assert parsed.errors == []
        assert [(i.id, i.group_id) for i in parsed.rows] == [("h-1", "g-1"), ("h-2", "g-1"), ("h-3", None)]

    def test_errors_with_row_and_field(self):
        parsed = parse_institutions_csv(
            "id,name,group_id,group_name\n"
            "h-1,,,\n"  # no name
            "h-2,某医院,,某集团\n"  # a group name without its id
            "h-3,某医院,g-1,甲集团\n"
            "h-4,某医院,g-1,乙集团\n"  # the same group named twice differently
            "h-3,某医院,,\n"  # duplicate id
        )
        assert {(e.row, e.field) for e in parsed.errors} == {
            (2, "name"), (3, "group_id"), (5, "group_name"), (6, "id")}
