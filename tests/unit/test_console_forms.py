"""The console's forms (api/console/forms.py, templates/_fields.html) as a Chinese-speaking clerk reads them."""

from __future__ import annotations

from html.parser import HTMLParser

from api.console import i18n
from api.console.forms import bool_mark, fields_of
from api.console.routes import templates
from domain.payloads import FinishAppraisal, RequestConsultation


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
