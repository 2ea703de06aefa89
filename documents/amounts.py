"""Amounts and counts as they are written on Chinese documents.

`chinese_capital` gives the 大写 form of a yuan amount (中文大写金额), following the rules of the
People's Bank of China for payment instruments (《支付结算办法》附件《正确填写票据和结算凭证的基本规定》):

* digits 零壹贰叁肆伍陆柒捌玖, units 拾佰仟 inside a section, sections 万 and 亿
  (amounts of 一万亿 yuan and more are refused);
  a leading ten is written 壹拾 (壹拾万, never 拾万);
* one 零 stands for any run of zeros between two written digits, also across a 万 or 亿 section
  (100005 -> 壹拾万零伍, 100000001 -> 壹亿零壹); no 零 for trailing zeros (1100000 -> 壹佰壹拾万);
* 元整 when there are no jiao and fen (12000 -> 壹万贰仟元整);
  no 整 after 角 (5.50 -> 伍元伍角) nor after 分 (5.55 -> 伍元伍角伍分);
* 元零…分 when jiao is zero and fen is not (1010.01 -> 壹仟零壹拾元零壹分);
* when the yuan end in zeros and jiao is not zero, no 零 is written after 元 (the rules allow
  both forms; this one is used throughout: 1680.32 -> 壹仟陆佰捌拾元叁角贰分);
* below one yuan there is no 元 (0.05 -> 伍分, 0.50 -> 伍角); zero is 零元整.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

DIGITS = "零壹贰叁肆伍陆柒捌玖"
UNITS = ("仟", "佰", "拾", "")  # inside a four-digit section, from the left
SECTIONS = ("", "万", "亿")  # from the right; 一万亿 (10^12) yuan and more are refused
FEN = Decimal("0.01")
LIMIT = 10 ** (4 * len(SECTIONS))

SMALL_DIGITS = "零一二三四五六七八九"


def _checked(amount: Decimal | int) -> Decimal:
    """The amount as a Decimal of whole fen; ValueError for negative, unbounded or sub-fen amounts."""
    if isinstance(amount, bool) or not isinstance(amount, (Decimal, int)):
        raise TypeError(f"an amount is a Decimal (or int), not {type(amount).__name__}")
    value = Decimal(amount)
    if not value.is_finite():
        raise ValueError(f"not a finite amount: {amount}")
    if value < 0:
        raise ValueError(f"negative amount: {amount}")
    try:
        in_fen = value.quantize(FEN)
    except InvalidOperation as exc:  # too many digits for the context's precision
        raise ValueError(f"amount too large: {amount}") from exc
    if in_fen != value:
        raise ValueError(f"more than two decimals (less than one fen): {amount}")
    if in_fen >= LIMIT:
        raise ValueError(f"amount too large: {amount}")
    return in_fen


def _integer_capital(number: int) -> str:
    """壹拾万零伍 for 100005; '' for 0."""
    sections: list[int] = []
    while number:
        number, section = divmod(number, 10_000)
        sections.append(section)
    out: list[str] = []
    zero_pending = False  # a run of zeros since the last written digit
    for index in range(len(sections) - 1, -1, -1):
        section = sections[index]
        if section == 0:
            zero_pending = bool(out)
            continue
        for unit, digit in zip(UNITS, f"{section:04d}"):
            if digit == "0":
                zero_pending = zero_pending or bool(out)
                continue
            if zero_pending:
                out.append("零")
                zero_pending = False
            out.append(DIGITS[int(digit)] + unit)
        out.append(SECTIONS[index])
        zero_pending = False  # 壹拾万壹仟: the next section says itself whether it starts with a zero
    return "".join(out)


def chinese_capital(amount: Decimal) -> str:
    """The 大写 form of an amount in yuan: Decimal("100005.50") -> "壹拾万零伍元伍角"."""
    value = _checked(amount)
    fen_total = int(value * 100)
    yuan, cents = divmod(fen_total, 100)
    jiao, fen = divmod(cents, 10)
    integer = _integer_capital(yuan)
    if not cents:
        return f"{integer or '零'}元整"
    out = f"{integer}元" if integer else ""
    if jiao:
        out += DIGITS[jiao] + "角"
    elif integer:
        out += "零"
    if fen:
        out += DIGITS[fen] + "分"
    return out


def format_yuan(amount: Decimal) -> str:
    """The amount in figures: Decimal("12000") -> "¥12,000.00"."""
    return f"¥{_checked(amount):,.2f}"


def chinese_numeral(number: int) -> str:
    """A small count in ordinary Chinese numerals (本协议一式三份, 第十二条): 1..99."""
    if isinstance(number, bool) or not isinstance(number, int) or not 0 < number < 100:
        raise ValueError(f"chinese_numeral takes 1..99, not {number!r}")
    tens, ones = divmod(number, 10)
    if not tens:
        return SMALL_DIGITS[ones]
    head = "" if tens == 1 else SMALL_DIGITS[tens]
    return head + "十" + (SMALL_DIGITS[ones] if ones else "")
