"""Performance of an effective agreement, term by term (PML 31; shared/DOMAIN.md `record_payment`, rev 2). Pure.

Each term of the agreement is performed by one or more recorded acts (`record_payment`): for a monetary term a
payment of some amount, for any other term (an apology, handing over the records) the act itself. A monetary term
is performed in full when its payments reach its amount; another term once an act is recorded. The case is
settled as performed (`confirm_performance`) only when every term is performed in full, or when the patient side
accepts less in writing.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any


def yuan(amount: Decimal) -> str:
    return f"{amount:,.2f}"


@dataclass(frozen=True)
class TermBalance:
    term: int  # 1-based, as the agreement numbers its terms
    text: str
    amount: Decimal | None  # None: not a monetary term
    paid: Decimal = Decimal("0.00")
    acts: int = 0  # payments or acts recorded against the term

    @property
    def balance(self) -> Decimal | None:
        return None if self.amount is None else max(Decimal("0.00"), self.amount - self.paid)

    @property
    def performed(self) -> bool:
        return self.acts > 0 if self.amount is None else self.paid >= self.amount

    def describe(self) -> str:
        """As a refusal names it: 第1项（医方支付赔偿款）应付¥86,500.50，已付¥1.00，余额¥86,499.50."""
        head = f"第{self.term}项（{self.text}）"
        if self.amount is None:
            return head + ("已履行" if self.performed else "未登记履行")
        return f"{head}应付¥{yuan(self.amount)}，已付¥{yuan(self.paid)}，余额¥{yuan(self.balance or 0)}"


def term_balances(terms: Sequence[Mapping[str, Any]], payments: Iterable[Mapping[str, Any]]) -> tuple[TermBalance, ...]:
    """The balance of every term of the agreement (its `terms` as drafted) after the recorded payments."""
    paid: dict[int, Decimal] = {}
    acts: dict[int, int] = {}
    for payment in payments:
        term = int(payment["term"])
        acts[term] = acts.get(term, 0) + 1
        if payment.get("amount") is not None:
            paid[term] = paid.get(term, Decimal("0.00")) + Decimal(str(payment["amount"]))
    return tuple(
        TermBalance(
            term=i,
            text=str(t.get("text", "")),
            amount=Decimal(str(t["amount"])) if t.get("amount") is not None else None,
            paid=paid.get(i, Decimal("0.00")),
            acts=acts.get(i, 0),
        )
        for i, t in enumerate(terms, start=1)
    )


def outstanding(balances: Iterable[TermBalance]) -> list[TermBalance]:
    return [b for b in balances if not b.performed]
