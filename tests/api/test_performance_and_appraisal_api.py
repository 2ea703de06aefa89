"""Performance term by term (PML 31), an appraisal that will not report (Reg 38) and the dating of signatures
(Reg 39), as staff meet them through the API (shared/DOMAIN.md, the rules marked rev 2)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import httpx

from domain.time import SHANGHAI
from tests.factories import APPRAISAL, SIGNATURES, agreement, payment, registration
from tests.http import case_of, ok, refused

APOLOGY = {"text": "医方向患方书面赔礼道歉", "manner": "书面致歉信", "deadline_text": "协议生效之日起5日内"}
ACCEPTANCE = {"text": "患方确认已收到赔偿款人民币二十八万元，同意放弃其余款项，本纠纷就此了结。",
              "accepted_by": "王大明", "accepted_on": None}  # accepted_on: today, filled in by the tests


# ------------------------------------------------------------------ helpers ------------------------------


async def events_of(api: httpx.AsyncClient, case_id: str) -> list[str]:
    return [t["event"] for t in (await api.get(f"/cases/{case_id}/history")).json()]


def today() -> date:
    return datetime.now(SHANGHAI).date()


async def case_in_mediation(api: httpx.AsyncClient) -> str:
    response = await api.post("/cases", json=registration(application_type="joint", applicant_side=None))
    assert response.status_code == 201, response.text
    case_id = response.json()["id"]
    await ok(api, case_id, "submit-for-review")
    await ok(api, case_id, "accept", {"mediators": ["陈调解员"]})
    return case_id


async def case_in_performance(api: httpx.AsyncClient, terms: list[dict] | None = None) -> str:
    """Joint registration, review, acceptance, the agreement drafted and its four signatures (Reg 39)."""
    case_id = await case_in_mediation(api)
    await ok(api, case_id, "draft-agreement", agreement(**({"terms": terms} if terms else {})))
    for signature in SIGNATURES:
        last = await ok(api, case_id, "sign", signature)
    assert last["status"] == "performance"
    return case_id


def one_term(amount: str) -> list[dict]:
    return [{**agreement()["terms"][0], "amount": amount}]


def balance_of(case: dict, term: int) -> dict:
    return next(b for b in case["balances"] if b["term"] == term)


# ------------------------------------------------------------------ performance --------------------------
class TestPerformanceTermByTerm:  # PML 31, rev 2
    async def test_confirmation_before_any_payment_is_refused_naming_the_terms_balance(self, api):
        case_id = await case_in_performance(api)
        body = await refused(api, case_id, "confirm-performance", {}, 409)
        assert body["code"] == "rule_violated" and body["rules"] == ["performed_in_full"]
        assert "第1项" in body["detail"] and "余额¥86,500.50" in body["detail"]
        case = await case_of(api, case_id)
        assert case["status"] == "performance" and case["outcome"] is None
        assert (await events_of(api, case_id))[-1] == "sign"

    async def test_a_token_payment_does_not_perform_the_term(self, api):  # the defect as found
        case_id = await case_in_performance(api)
        await ok(api, case_id, "record-payment", payment(amount="1.00"))
        body = await refused(api, case_id, "confirm-performance", {}, 409)
        assert body["code"] == "rule_violated"
        assert "已付¥1.00" in body["detail"] and "余额¥86,499.50" in body["detail"]
        assert (await case_of(api, case_id))["status"] == "performance"

    async def test_most_of_the_sum_paid_is_not_performance(self, api):  # the defect as found
        case_id = await case_in_performance(api, one_term("380000.07"))
        await ok(api, case_id, "record-payment", payment(amount="280000.00"))
        body = await refused(api, case_id, "confirm-performance", {}, 409)
        assert body["code"] == "rule_violated" and "余额¥100,000.07" in body["detail"]
        assert (await case_of(api, case_id))["status"] == "performance"

    async def test_the_patient_sides_written_acceptance_of_less_settles_the_case(self, api):
        case_id = await case_in_performance(api, one_term("380000.07"))
        await ok(api, case_id, "record-payment", payment(amount="280000.00"))
        acceptance = {**ACCEPTANCE, "accepted_on": today().isoformat()}
        settled = await ok(api, case_id, "confirm-performance", {"patient_acceptance": acceptance})
        assert settled["status"] == "settled"
        case = await case_of(api, case_id)
        assert case["status"] == "settled"
        assert case["outcome"]["event"] == "confirm_performance"
        assert case["outcome"]["patient_acceptance"] == acceptance
        # the acceptance settles the case; it does not pretend the term was paid
        assert [Decimal(p["amount"]) for p in case["payments"]] == [Decimal("280000.00")]
        [kept] = case["balances"]  # the balance of each term is kept, after settlement too
        assert (Decimal(kept["balance"]), kept["performed"]) == (Decimal("100000.07"), False)
        history = (await api.get(f"/cases/{case_id}/history")).json()
        assert history[-1]["event"] == "confirm_performance"
        assert history[-1]["payload"]["patient_acceptance"] == acceptance

    async def test_an_acceptance_states_its_text_and_date(self, api):  # PML 31, rev 2: "its text and date"
        case_id = await case_in_performance(api)
        for missing in ("text", "accepted_on"):
            acceptance = {k: v for k, v in {**ACCEPTANCE, "accepted_on": today().isoformat()}.items()
                          if k != missing}
            body = await refused(api, case_id, "confirm-performance", {"patient_acceptance": acceptance}, 422)
            assert body["errors"][0]["field"] == f"patient_acceptance.{missing}"
        assert (await case_of(api, case_id))["status"] == "performance"

    async def test_a_payment_over_the_balance_is_refused(self, api):
        case_id = await case_in_performance(api)
        body = await refused(api, case_id, "record-payment", payment(amount="86500.51"), 409)
        assert body["code"] == "rule_violated" and body["rules"] == ["payment_fits_term"]
        await ok(api, case_id, "record-payment", payment(amount="500.00"))
        # 86,000.50 left
        body = await refused(api, case_id, "record-payment", payment(amount="86000.51"), 409)
        assert "余额¥86,000.50" in body["detail"]
        case = await case_of(api, case_id)
        assert [Decimal(p["amount"]) for p in case["payments"]] == [Decimal("500.00")]

    async def test_a_payment_names_a_term_of_the_agreement(self, api):
        case_id = await case_in_performance(api)
        body = await refused(api, case_id, "record-payment", payment(term=2), 409)
        assert body["code"] == "rule_violated" and body["rules"] == ["payment_fits_term"]
        assert (await case_of(api, case_id))["payments"] == []

    async def test_a_payment_dated_in_the_future_is_422(self, api):
        case_id = await case_in_performance(api)
        tomorrow = (today() + timedelta(days=1)).isoformat()
        body = await refused(api, case_id, "record-payment", payment(paid_on=tomorrow), 422)
        assert body["code"] == "invalid_payload"
        assert [e["field"] for e in body["errors"]] == ["paid_on"]
        assert (await case_of(api, case_id))["payments"] == []

    async def test_two_payments_that_together_pay_in_full_settle_the_case(self, api):
        case_id = await case_in_performance(api)
        insurer = "某财产保险股份有限公司上海分公司"
        await ok(api, case_id, "record-payment", payment(amount="50000.00", payer=insurer))
        case = await case_of(api, case_id)
        assert case["balances"] == [{"term": 1, "text": agreement()["terms"][0]["text"], "amount": "86500.50",
                                     "paid": "50000.00", "balance": "36500.50", "performed": False}]
        await ok(api, case_id, "record-payment", payment(amount="36500.50"))
        case = await case_of(api, case_id)
        term = balance_of(case, 1)
        assert Decimal(term["paid"]) == Decimal("86500.50") and Decimal(term["balance"]) == 0
        assert term["performed"] is True
        assert [(p["term"], Decimal(p["amount"]), p["payer"]) for p in case["payments"]] == [
            (1, Decimal("50000.00"), insurer),
            (1, Decimal("36500.50"), "上海市某区人民医院"),
        ]
        assert all(p["paid_on"] == today().isoformat() and p["proof"] for p in case["payments"])
        body = await refused(api, case_id, "record-payment", payment(amount="0.01"), 409)  # nothing left
        assert "balance_outstanding" in body["rules"]
        assert (await ok(api, case_id, "confirm-performance"))["status"] == "settled"

    async def test_a_term_without_an_amount_is_performed_by_recording_the_act(self, api):
        case_id = await case_in_performance(api, [agreement()["terms"][0], APOLOGY])
        await ok(api, case_id, "record-payment", payment())  # term 1 in full
        body = await refused(api, case_id, "confirm-performance", {}, 409)
        assert "第2项" in body["detail"] and "未登记履行" in body["detail"]  # the apology is still owed
        assert "第1项" not in body["detail"]
        body = await refused(api, case_id, "record-payment", payment(term=2, amount="1.00"), 409)
        assert body["rules"] == ["payment_fits_term"]  # an act, not a sum
        await ok(api, case_id, "record-payment",
                 payment(term=2, amount=None, payer="上海市某区人民医院", proof="致歉信原件（患方签收）"))
        apology = balance_of(await case_of(api, case_id), 2)
        assert apology == {"term": 2, "text": APOLOGY["text"], "amount": None, "paid": "0.00",
                           "balance": None, "performed": True}
        assert (await ok(api, case_id, "confirm-performance"))["status"] == "settled"

    async def test_a_monetary_term_is_not_performed_by_an_act_without_a_sum(self, api):
        case_id = await case_in_performance(api)
        body = await refused(api, case_id, "record-payment", payment(amount=None), 409)
        assert body["rules"] == ["payment_fits_term"]
        assert not balance_of(await case_of(api, case_id), 1)["performed"]


# ------------------------------------------------------------------ abandoned appraisal ------------------
class TestAbandonedAppraisal:  # Reg 38, rev 2
    async def test_an_appraisal_that_will_not_report_is_abandoned_and_the_clock_runs_again(self, api):
        case_id = await case_in_mediation(api)
        await ok(api, case_id, "start-appraisal", APPRAISAL)
        paused = (await case_of(api, case_id))["mediation_clock"]
        assert paused["paused"] is True and paused["due_date"] is None
        abandoned = await ok(api, case_id, "abandon-appraisal",
                             {"reason": "fee_not_advanced", "reason_text": "患方未在指定期限内预交鉴定费"})
        assert abandoned["from_status"] == "appraisal" and abandoned["status"] == "in_mediation"
        case = await case_of(api, case_id)
        clock = case["mediation_clock"]
        assert case["status"] == "in_mediation"
        assert clock["paused"] is False and clock["due_date"] is not None
        assert [(p["started_on"], p["ended_on"]) for p in clock["pauses"]] == [
            (today().isoformat(), today().isoformat())]
        assert "deadline_expired" in [d["kind"] for d in case["deadlines"]]  # the expiry is armed again
        history = (await api.get(f"/cases/{case_id}/history")).json()
        assert history[-1]["event"] == "abandon_appraisal"
        assert history[-1]["payload"]["reason"] == "fee_not_advanced"

    async def test_the_reason_other_needs_words(self, api):
        case_id = await case_in_mediation(api)
        await ok(api, case_id, "start-appraisal", APPRAISAL)
        body = await refused(api, case_id, "abandon-appraisal", {"reason": "other"}, 422)
        assert body["code"] == "invalid_payload" and "reason_text" in body["detail"]
        body = await refused(api, case_id, "abandon-appraisal", {"reason": "other", "reason_text": "  "}, 422)
        assert "reason_text" in body["detail"]
        assert (await case_of(api, case_id))["status"] == "appraisal"
        other = {"reason": "other", "reason_text": "鉴定机构停业整顿"}
        assert (await ok(api, case_id, "abandon-appraisal", other))["status"] == "in_mediation"

    async def test_an_unknown_reason_is_422(self, api):
        case_id = await case_in_mediation(api)
        await ok(api, case_id, "start-appraisal", APPRAISAL)
        body = await refused(api, case_id, "abandon-appraisal", {"reason": "lost_interest"}, 422)
        assert [e["field"] for e in body["errors"]] == ["reason"]
        body = await refused(api, case_id, "abandon-appraisal", {}, 422)  # a reason is required
        assert [e["field"] for e in body["errors"]] == ["reason"]
        assert (await case_of(api, case_id))["mediation_clock"]["paused"] is True

    async def test_only_an_open_appraisal_can_be_abandoned(self, api):
        case_id = await case_in_mediation(api)
        body = await refused(api, case_id, "abandon-appraisal", {"reason": "fee_not_advanced"}, 409)
        assert body["code"] == "illegal_transition"
        assert body["state"] == "in_mediation" and body["event"] == "abandon_appraisal"
        assert "abandon_appraisal" not in body["allowed_events"]
        assert (await events_of(api, case_id))[-1] == "accept"


# ------------------------------------------------------------------ signatures ---------------------------
class TestSignatureDates:  # Reg 39, rev 2
    async def drafted(self, api: httpx.AsyncClient) -> tuple[str, datetime]:
        case_id = await case_in_mediation(api)
        await ok(api, case_id, "draft-agreement", agreement())
        drafted_at = datetime.fromisoformat((await case_of(api, case_id))["agreement"]["drafted_at"])
        return case_id, drafted_at

    async def test_a_signature_dated_before_the_draft_is_refused(self, api):
        case_id, drafted_at = await self.drafted(api)
        early = {**SIGNATURES[0], "signed_at": "2025-01-02T10:00:00+08:00"}
        body = await refused(api, case_id, "sign", early, 409)
        assert body["code"] == "rule_violated" and body["rules"] == ["signed_after_draft"]
        assert "draft" in body["detail"]
        assert drafted_at.astimezone(SHANGHAI).date().isoformat() in body["detail"]  # names the draft's day
        assert (await case_of(api, case_id))["signatures"] == {}

    async def test_a_signature_cannot_be_dated_in_the_future(self, api):
        case_id, _ = await self.drafted(api)
        later = (datetime.now(SHANGHAI) + timedelta(days=1)).isoformat()
        body = await refused(api, case_id, "sign", {**SIGNATURES[0], "signed_at": later}, 422)
        assert [e["field"] for e in body["errors"]] == ["signed_at"]

    async def test_every_signature_time_is_asia_shanghai(self, api):
        case_id, drafted_at = await self.drafted(api)
        await ok(api, case_id, "sign", SIGNATURES[0])  # recorded as made now
        utc = max(drafted_at, datetime.now(UTC) - timedelta(seconds=5)).astimezone(UTC)
        await ok(api, case_id, "sign", {**SIGNATURES[1], "signed_at": utc.isoformat().replace("+00:00", "Z")})
        signatures = (await case_of(api, case_id))["signatures"]
        now_signed = signatures["patient"]["signed_at"]
        assert now_signed.endswith("+08:00"), now_signed
        assert abs(datetime.fromisoformat(now_signed) - datetime.now(SHANGHAI)) < timedelta(minutes=5)
        given = signatures["institution"]["signed_at"]
        assert given.endswith("+08:00") and datetime.fromisoformat(given) == utc  # the same instant

    async def test_the_effective_date_is_the_day_of_the_last_of_the_four_acts(self, api):
        case_id, drafted_at = await self.drafted(api)
        now = datetime.now(UTC)
        # given in UTC: the legal day is the Shanghai one (they differ from 16:00 to 24:00 UTC)
        # recorded in another order than signed: the patient side's is the latest
        times = [max(drafted_at, now - timedelta(seconds=s)) for s in (1, 3, 2, 60)]
        for signature, at in zip(SIGNATURES, times, strict=True):
            last = await ok(api, case_id, "sign", {**signature, "signed_at": at.astimezone(UTC).isoformat()})
        assert last["status"] == "performance"
        case = await case_of(api, case_id)
        latest = max(datetime.fromisoformat(s["signed_at"]) for s in case["signatures"].values())
        assert case["effective_on"] == latest.astimezone(SHANGHAI).date().isoformat()
        assert sorted(case["signatures"]) == sorted(s["signer"] for s in SIGNATURES)
