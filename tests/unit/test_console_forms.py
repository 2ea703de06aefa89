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
