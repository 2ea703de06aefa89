"""Amounts in 大写 (中文大写金额) and in figures, as printed on the agreement.

The rules are those of the People's Bank of China for payment instruments
(《正确填写票据和结算凭证的基本规定》), see documents/amounts.py.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from documents.amounts import chinese_capital, chinese_numeral, format_yuan

KNOWN = [
    # whole yuan end with 元整
    ("0", "零元整"),
    ("1", "壹元整"),
    ("10", "壹拾元整"),  # a leading ten is 壹拾, never 拾
    ("15", "壹拾伍元整"),
    ("20", "贰拾元整"),
    ("101", "壹佰零壹元整"),
    ("110", "壹佰壹拾元整"),
    ("1000", "壹仟元整"),
    ("1001", "壹仟零壹元整"),  # one 零 for a run of zeros
    ("1010", "壹仟零壹拾元整"),
    ("1100", "壹仟壹佰元整"),
    ("9999", "玖仟玖佰玖拾玖元整"),
    ("10000", "壹万元整"),
    ("10001", "壹万零壹元整"),
    ("12000", "壹万贰仟元整"),
    ("12000.00", "壹万贰仟元整"),
    ("100000", "壹拾万元整"),
    ("100100", "壹拾万零壹佰元整"),
    ("101000", "壹拾万壹仟元整"),  # the 万 digit is zero but the 仟 digit is not: no 零
    ("1000100", "壹佰万零壹佰元整"),
    ("1100000", "壹佰壹拾万元整"),
    ("10010000", "壹仟零壹万元整"),
    ("100000000", "壹亿元整"),
    ("100000001", "壹亿零壹元整"),  # a whole zero 万 section is one 零
    ("100001000", "壹亿零壹仟元整"),
    ("100010000", "壹亿零壹万元整"),
    ("110000000", "壹亿壹仟万元整"),
    ("1234567890", "壹拾贰亿叁仟肆佰伍拾陆万柒仟捌佰玖拾元整"),
    ("999999999999.99", "玖仟玖佰玖拾玖亿玖仟玖佰玖拾玖万玖仟玖佰玖拾玖元玖角玖分"),
    # jiao and fen: no 整 after 角 or 分
    ("100005.50", "壹拾万零伍元伍角"),
    ("20.30", "贰拾元叁角"),
    ("5.55", "伍元伍角伍分"),
    ("1680.32", "壹仟陆佰捌拾元叁角贰分"),  # no 零 after 元 when jiao is not zero
    ("107000.53", "壹拾万柒仟元伍角叁分"),
    # jiao zero, fen not: 元零…分
    ("1010.01", "壹仟零壹拾元零壹分"),
    ("305000.07", "叁拾万伍仟元零柒分"),
    ("1.01", "壹元零壹分"),
    # below one yuan: no 元
    ("0.05", "伍分"),
    ("0.5", "伍角"),
    ("0.50", "伍角"),
    ("0.55", "伍角伍分"),
    ("0.01", "壹分"),
]


@pytest.mark.parametrize(("amount", "capital"), KNOWN)
def test_known_amounts_in_capitals(amount: str, capital: str) -> None:
    assert chinese_capital(Decimal(amount)) == capital


def test_an_int_is_an_amount_too() -> None:
    assert chinese_capital(12000) == "壹万贰仟元整"


@pytest.mark.parametrize("amount", ["-1", "-0.01", "1.001", "0.005", "12000.125", "NaN", "Infinity"])
def test_negative_sub_fen_and_non_finite_amounts_are_refused(amount: str) -> None:
    with pytest.raises(ValueError):
        chinese_capital(Decimal(amount))
    with pytest.raises(ValueError):
        format_yuan(Decimal(amount))


def test_trailing_zero_decimals_are_not_more_than_two_decimals() -> None:
    assert chinese_capital(Decimal("1.000")) == "壹元整"


def test_amounts_from_one_trillion_yuan_are_refused() -> None:
    with pytest.raises(ValueError):
        chinese_capital(Decimal("1000000000000"))


def test_floats_are_refused_they_are_not_exact() -> None:
    with pytest.raises(TypeError):
        chinese_capital(0.1)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("amount", "figures"),
    [
        ("12000", "¥12,000.00"),
        ("0", "¥0.00"),
        ("0.5", "¥0.50"),
        ("100005.50", "¥100,005.50"),
        ("1234567.89", "¥1,234,567.89"),
        ("999", "¥999.00"),
    ],
)
def test_amounts_in_figures(amount: str, figures: str) -> None:
    assert format_yuan(Decimal(amount)) == figures


@pytest.mark.parametrize(
    ("number", "numeral"),
    [(1, "一"), (2, "二"), (3, "三"), (9, "九"), (10, "十"), (11, "十一"), (20, "二十"), (21, "二十一"), (99, "九十九")],
)
def test_small_counts_in_chinese_numerals(number: int, numeral: str) -> None:
    # 本协议一式三份; the agreed terms are numbered 一、二、三、
    assert chinese_numeral(number) == numeral


@pytest.mark.parametrize("number", [0, -1, 100])
def test_counts_outside_1_to_99_are_refused(number: int) -> None:
    with pytest.raises(ValueError):
        chinese_numeral(number)
