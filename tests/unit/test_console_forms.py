"""The console's forms (api/console/forms.py, templates/_fields.html) as a Chinese-speaking clerk reads them."""

from __future__ import annotations

import re
from html.parser import HTMLParser

from api.console import i18n
from api.console.forms import bool_mark, fields_of, payload_of
from api.console.routes import templates
from domain.payloads import FinishAppraisal, LinkRespondent, RequestConsultation


class Options(HTMLParser):
    """Each <select>'s options: (value, selected, disabled, text)."""

    def __init__(self) -> None:
        super().__init__()
        self.selects: dict[str, list[list[object]]] = {}
        self._select: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        named = dict(attrs)
        if tag == "select":
            self._select = named["name"] or ""
            self.selects[self._select] = []
        elif tag == "option" and self._select is not None:
            self.selects[self._select].append([named.get("value"), "selected" in named, "disabled" in named, ""])

    def handle_endtag(self, tag: str) -> None:
        if tag == "select":
            self._select = None

    def handle_data(self, data: str) -> None:
        if self._select is not None and self.selects[self._select]:
            self.selects[self._select][-1][3] += data.strip()


def rendered(model: type, lang: str = "zh") -> str:
    macro = templates.env.from_string('{% from "_fields.html" import render_fields with context %}{{ render_fields(fields, {}) }}')
    return macro.render(fields=fields_of(model), lang=lang, field_label=lambda k: i18n.field_label(lang, k),
                        field_hint=lambda k, description: i18n.field_hint(lang, k, description),
                        value_label=lambda f, x: i18n.value_label(lang, f, x), t=lambda key: i18n.text(lang, key),
                        bool_mark=bool_mark)


def test_a_required_choice_is_never_made_for_the_clerk() -> None:
    # Reg 36: an appraisal's degree of liability is what the opinion says; a form that preselects "full" would
    # record full liability for a clerk who skipped the field
    parser = Options()
    parser.feed(rendered(FinishAppraisal))
    degree = parser.selects["liability_degree"]
    assert degree[0][:3] == ["", True, True] and degree[0][3] == "请选择"
    assert not any(selected for _, selected, _, _ in degree[1:])
    assert [text for _, _, _, text in degree[1:]] == ["全部责任", "主要责任", "同等责任", "次要责任", "轻微责任", "无责任"]


def test_the_specialties_of_a_consultation_are_in_chinese() -> None:
    # Reg 33, 35: the pool's vocabulary, in words
    html = rendered(RequestConsultation)
    assert "> 产科</label>" in html and "> 法学</label>" in html
    assert "obstetrics</label>" not in html and "general surgery" not in html


def test_a_chinese_form_gives_its_hints_in_chinese_and_never_an_api_path() -> None:
    from domain.events import EVENTS

    for spec in EVENTS.values():
        if spec.payload is None:
            continue
        html = rendered(spec.payload)
        hints = re.findall(r"<small>(.*?)</small>", html, flags=re.S)
        for hint in hints:
            assert not re.search(r"[A-Za-z]{3,}", hint), (spec.name, hint)  # no English words, no GET /pool/...
    assert "专家库的医疗机构名录" in rendered(LinkRespondent)  # Reg 37: chosen from the registry
    assert "GET /pool/institutions" in rendered(LinkRespondent, lang="en")  # the API's words on English pages


def test_several_experts_of_one_specialty_are_asked_for_by_their_number() -> None:
    # Reg 35: a consultation names one to seven experts, several of one specialty if the question needs them
    counted = frozenset({"specialties"})
    form = {"specialties.obstetrics": "2", "specialties.law": "1", "specialties.pediatrics": "", "question": "过错？"}
    payload = payload_of(RequestConsultation, form, counted)
    assert sorted(payload["specialties"]) == ["law", "obstetrics", "obstetrics"]  # in the vocabulary's order
    assert RequestConsultation.model_validate(payload).specialties.count("obstetrics") == 2
    fields = fields_of(RequestConsultation, payload, counted=counted)
    macro = templates.env.from_string('{% from "_fields.html" import render_fields with context %}{{ render_fields(fields, {}) }}')
    html = macro.render(fields=fields, lang="zh", field_label=lambda k: i18n.field_label("zh", k),
                        field_hint=lambda k, d: i18n.field_hint("zh", k, d),
                        value_label=lambda f, x: i18n.value_label("zh", f, x), t=lambda key: i18n.text("zh", key),
                        bool_mark=bool_mark)
    assert 'name="specialties.obstetrics" value="2"' in html  # a refused form comes back with the numbers typed
    assert payload_of(RequestConsultation, {"specialties.law": "x", "question": "?"}, counted)["specialties"] == "x"


class _Staff:
    """What the panel's forms ask of a visit: may this role do it, and the page's words."""

    def __init__(self, role: str) -> None:
        self.role = role

    def may(self, operation: str) -> bool:
        from domain import access

        return self.role in access.PERMISSIONS.get(operation, frozenset())

    def t(self, key: str) -> str:
        return i18n.text("zh", key)


PANEL = {"id": "P1", "status": "drawing", "slots": [
    {"slot": 0, "specialty": "obstetrics", "specialty_label": "产科", "status": "invited", "expert_id": "SH-E0007",
     "expert_name": "杨慧", "invitation_id": "inv-1"},
    {"slot": 1, "specialty": "law", "specialty_label": "法学", "status": "unfilled", "expert_id": None,
     "expert_name": None, "invitation_id": None}],
    "objections": [{"id": "obj-1", "invitation_id": "inv-1", "expert_id": "SH-E0007", "decision": None}]}


def test_the_panels_forms_follow_who_may_do_what() -> None:
    # Reg 37: staff record a party's request for recusal; the committee's director decides it
    from api.console.routes import _panel_forms

    mediator, director = _panel_forms(_Staff("mediator"), PANEL), _panel_forms(_Staff("director"), PANEL)
    expert = next(f for f in mediator["objection"] if f.key == "invitation_id")
    assert expert.options == ["inv-1"] and expert.labels["inv-1"] == "席位 0 · 产科 · 杨慧"
    assert "decisions" not in mediator and [o["id"] for o, _ in director["decisions"]] == ["obj-1"]
    assert [s["slot"] for s, _ in mediator["redraws"]] == [1]  # only the seat the pool could not fill
    assert "meeting" not in mediator  # not before every seat has accepted (Reg 33)
    assert _panel_forms(_Staff("director"), {**PANEL, "status": "closed"}) == {}


def test_a_refused_panel_form_comes_back_as_it_was_typed() -> None:
    from api.console.routes import _panel_forms

    typed = {"invitation_id": "inv-1", "raised_by": "patient", "form": "written", "reason": "该专家曾在被申请医院进修"}
    fields = _panel_forms(_Staff("mediator"), PANEL, ("objection-P1", typed))["objection"]
    assert {f.key: f.value for f in fields} == typed
    other = _panel_forms(_Staff("mediator"), PANEL, ("meeting-P1", typed))["objection"]
    assert all(f.value is None for f in other)


def test_the_amendment_form_starts_from_the_representatives_as_registered() -> None:
    # Civil Code 173: the clerk corrects the list, never retypes it
    from api.console.routes import _forms

    case = {"allowed_events": ["amend_parties"], "registration": {"patient_representatives": [
        {"name": "王大明", "relation": "患者之子", "role": "relative", "phone": "13800138000"}]}}
    [form] = _forms(_Staff("intake"), case, [], [])
    rows = next(f for f in form["fields"] if f.key == "patient_representatives").children
    first = {f.key: f.value for f in rows[0].children}
    assert first["name"] == "王大明" and first["relation"] == "患者之子" and first["role"] == "relative"
    assert all(f.value in (None, "relative", []) for f in rows[1].children)  # a spare row for an heir to add
