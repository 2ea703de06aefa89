"""The statistics report's charts as SVG, drawn on the server by pygal (documents/statistics_report.py says what
each shows): bars per month, a donut of the outcomes, the durations per group, horizontal bars of the top
institutions and departments. One SVG serves the PDF (WeasyPrint draws it inline) and the console's page.

What pygal makes is then flattened into plain SVG (`plain_svg`):
- no script: pygal always writes one (its tooltips' configuration), even with `js=[]`; the console's policy runs
  none (api/hardening.py CONSOLE_POLICY), and a document carries none;
- no style sheet: pygal colours and sizes everything through a <style> element, which the console's policy
  (style-src 'self') would refuse in a page, leaving black shapes; each rule is applied instead as the SVG
  presentation attributes of the elements it selects (fill, stroke, font-size ...), in the cascade's order;
- no tooltip machinery (hidden groups, <desc> data for the script): each bar or slice gets a <title> instead,
  which browsers show on hover; no class (the page's style sheet cannot reach in), ids made from the chart's name
  (the same data give the same bytes).
The text is text (selectable, searchable, read by screen readers), in the family of the page it goes into:
`PRINT_FONT` for the PDF (the bundled face, documents/fonts.py), `SCREEN_FONT` for the console (console.css).
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import replace
from typing import Any
from xml.etree import ElementTree

import cssselect2
import pygal
import tinycss2
from pygal.style import Style

from documents.contexts import ChartData
from domain.statistics import percent_text, rate

PRINT_FONT = '"Mediation Serif SC", "Noto Serif CJK SC", serif'
SCREEN_FONT = '"Noto Sans CJK SC", "Noto Serif CJK SC", "PingFang SC", "Microsoft YaHei", sans-serif'
SVG_NS = "http://www.w3.org/2000/svg"
XLINK_NS = "http://www.w3.org/1999/xlink"
COLOURS = ("#1f5fa8", "#2e8b57", "#c0392b", "#7f8c8d", "#b8860b", "#6a4c93")
WIDTH = 800  # the viewBox's (a narrow column's chart: 480); the page scales it to its width
NO_DATA = {"zh": "本期无数据", "en": "No data for the period"}

# The CSS properties that SVG also takes as attributes (SVG 1.1 §6.4), those pygal's style sheets set.
PRESENTATION = frozenset({
    "fill", "fill-opacity", "stroke", "stroke-width", "stroke-opacity", "stroke-dasharray", "stroke-linecap",
    "stroke-linejoin", "opacity", "font-family", "font-size", "font-weight", "text-anchor", "visibility",
    "display", "dominant-baseline",
})
# Rules for states of an interactive page: never applied to a printed chart.
_INTERACTIVE = re.compile(r":(hover|active|focus)")

ElementTree.register_namespace("xlink", XLINK_NS)


def _style(font: str) -> Style:
    return Style(
        font_family=font, background="white", plot_background="white", foreground="#222",
        foreground_strong="#000", foreground_subtle="#888", colors=COLOURS, opacity="1", opacity_hover="1",
        title_font_size=18, label_font_size=13, major_label_font_size=13, legend_font_size=14,
        value_font_size=12, value_label_font_size=12, no_data_font_size=24,
    )


def _width(text: str, size: float) -> float:
    """About how wide `text` is drawn: a Chinese character is as wide as the font is high, a Latin one about
    half (pygal reckons 0.6 of the size for every character, so Chinese labels were cut off)."""
    return sum(size if unicodedata.east_asian_width(ch) in "WF" else size * 0.55 for ch in text)


def _number(value: float | None) -> str:
    """A count as a whole number, anything else with one decimal; nothing for none."""
    if value is None:
        return ""
    return f"{value:.0f}" if float(value).is_integer() else f"{value:.1f}"


def _whole_ticks(data: ChartData) -> dict[str, list[int]]:
    """Counts are ticked at whole numbers (pygal would tick 0.2, 0.4 … for a month of three cases)."""
    values = [value for series in data.series for value in series.values if value is not None]
    if not any(values) or not all(float(value).is_integer() for value in values):  # none: no axes at all
        return {}
    step = max(1, math.ceil(max(values) / 8))
    return {"y_labels": list(range(0, int(max(values)) + step, step))}


def height(data: ChartData) -> int:
    """Bars and the donut 800 × 360; horizontal bars as tall as their labels need."""
    return max(180, 90 + 36 * len(data.labels)) if data.kind == "hbar" else 360


def _chart(data: ChartData, font: str, lang: str, width: int = WIDTH) -> pygal.graph.graph.Graph:
    style = _style(font)
    common: dict[str, Any] = {  # js=[]: no script file (the one pygal still writes goes in plain_svg)
        "style": style, "js": [], "disable_xml_declaration": True, "explicit_size": False, "width": width,
        "height": height(data), "title": data.title, "legend_at_bottom": True, "print_values": True,
        "print_zeroes": False, "no_data_text": NO_DATA.get(lang, NO_DATA["zh"]), "truncate_label": -1,
        "truncate_legend": -1, "value_formatter": _number, "margin": 12,
    }
    if data.kind == "donut":
        style.value_colors = ("white",)  # printed inside the slices
        chart = pygal.Pie(inner_radius=0.5, legend_at_bottom_columns=len(data.series) or 1, **common)
        total = sum(series.values[0] or 0 for series in data.series)
        for series in data.series:
            value = series.values[0] or 0
            if total:
                share = percent_text(rate(value, total) or 0.0)  # the tables' rounding rule
                chart.add(f"{series.name} {_number(value)}（{share}）" if lang == "zh" else
                          f"{series.name} {_number(value)} ({share})", [value] if value else [])
        return chart
    if data.kind == "hbar":
        # room for the labels as wide as they are drawn, past what pygal reckons for them (and a character more:
        # pygal's own reckoning of a Latin label falls a little short too)
        reckoned = 0.6 * style.label_font_size * max(map(len, data.labels), default=0)
        widest = max((_width(label, style.label_font_size) for label in data.labels), default=0)
        chart = pygal.HorizontalBar(show_legend=False, print_values_position="top",
                                    margin_left=12 + style.label_font_size + max(widest - reckoned, 0),
                                    **_whole_ticks(data), **common)
        if any(value for series in data.series for value in series.values):
            chart.x_labels = list(reversed(data.labels))  # pygal draws the first at the bottom: the most on top
            for series in data.series:
                chart.add(series.name, list(reversed(series.values)))
        return chart
    rotate = len(data.labels) > 6 or max((_width(label, 13) for label in data.labels), default=0) * \
        len(data.labels) > width * 0.8
    chart = pygal.Bar(x_label_rotation=30 if rotate else 0, print_values_position="top",
                      legend_at_bottom_columns=len(data.series) or 1, **_whole_ticks(data), **common)
    if any(value for series in data.series for value in series.values):  # else: no axes, the words "no data"
        chart.x_labels = list(data.labels)
        for series in data.series:
            chart.add(series.name, list(series.values))
    return chart


_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _xml_text(data: ChartData) -> ChartData:
    """The chart's words without the characters XML cannot hold (a name on file could carry one)."""
    def clean(text: str) -> str:
        return _NOT_XML.sub("", text)

    return replace(data, title=clean(data.title), labels=tuple(map(clean, data.labels)),
                   series=tuple(replace(series, name=clean(series.name)) for series in data.series))


def chart_svg(data: ChartData, *, font: str = PRINT_FONT, lang: str = "zh", width: int = WIDTH) -> str:
    """The chart as plain SVG markup (no script, no style sheet), to be put inline in HTML; `width` is its
    viewBox's (the text keeps its size: a narrower chart for a narrower column)."""
    data = _xml_text(data)
    raw = _chart(data, font, lang, width).render(is_unicode=True)
    return plain_svg(raw, name=data.name, title=data.title)


# --- Flattening ------------------------------------------------------------------------------------------------


def _tag(element: ElementTree.Element) -> str:
    return element.tag.rpartition("}")[2] if isinstance(element.tag, str) else ""


def _rules(root: ElementTree.Element) -> Iterator[tuple[cssselect2.compiler.CompiledSelector,
                                                         list[tuple[str, str, bool]]]]:
    for style in root.iter(f"{{{SVG_NS}}}style"):
        for rule in tinycss2.parse_stylesheet(style.text or "", skip_whitespace=True, skip_comments=True):
            if rule.type != "qualified-rule" or _INTERACTIVE.search(tinycss2.serialize(rule.prelude)):
                continue
            declarations = [
                (d.lower_name, tinycss2.serialize(d.value).strip(), d.important)
                for d in tinycss2.parse_declaration_list(rule.content, skip_whitespace=True, skip_comments=True)
                if d.type == "declaration" and d.lower_name in PRESENTATION
            ]
            if not declarations:
                continue
            try:
                selectors = cssselect2.compile_selector_list(rule.prelude)
            except cssselect2.SelectorError:
                continue
            for selector in selectors:
                if selector.pseudo_element is None:
                    yield selector, declarations


def _apply_style_sheets(root: ElementTree.Element) -> None:
    """Each rule's declarations as the attributes of the elements it selects, in the cascade's order
    (specificity, then order; !important last); an element's own style attribute wins, as in CSS."""
    matcher = cssselect2.Matcher()
    for selector, declarations in _rules(root):
        matcher.add_selector(selector, declarations)
    for wrapper in cssselect2.ElementWrapper.from_xml_root(root).iter_subtree():
        element = wrapper.etree_element
        chosen: dict[str, tuple[str, bool]] = {}
        for _specificity, _order, _pseudo, declarations in sorted(matcher.match(wrapper), key=lambda m: m[:2]):
            for name, value, important in declarations:
                if important or not chosen.get(name, ("", False))[1]:
                    chosen[name] = (value, important)
        for declaration in tinycss2.parse_declaration_list(element.attrib.pop("style", ""), skip_whitespace=True):
            if declaration.type == "declaration" and declaration.lower_name in PRESENTATION:
                chosen[declaration.lower_name] = (tinycss2.serialize(declaration.value).strip(), True)
        for name, (value, _important) in chosen.items():
            element.set(name, value)


def _titles_for_values(root: ElementTree.Element) -> None:
    """pygal's tooltips are data for its script (<desc class="value">, x_label): a <title> instead. pygal's own
    titles (the axes' positions) go; the chart's title stays."""
    for parent in root.iter():
        for child in list(parent):
            if _tag(child) == "title" and parent is not root:
                parent.remove(child)
    for element in root.iter():
        descs = {d.get("class", ""): (d.text or "") for d in element if _tag(d) == "desc"}
        if "value" in descs and not any(_tag(child) == "title" for child in element):
            label = descs.get("x_label", "")
            title = ElementTree.Element(f"{{{SVG_NS}}}title")
            title.text = f"{label}：{descs['value']}" if label else descs["value"]
            element.insert(0, title)


def _remove(root: ElementTree.Element) -> None:
    """The script, the style sheets, the tooltips' data and machinery; every class."""
    for parent in list(root.iter()):
        for child in list(parent):
            if _tag(child) in ("script", "style", "desc") or "tooltip" in child.get("class", "").split() or \
                    "tooltip-overlay" in child.get("class", "").split():
                parent.remove(child)
    for element in root.iter():
        element.attrib.pop("class", None)


def _own_ids(root: ElementTree.Element, name: str) -> None:
    """pygal's random ids (chart-<uuid>) as ids made from the chart's name."""
    renamed: dict[str, str] = {}
    for number, element in enumerate(el for el in root.iter() if el.get("id")):
        renamed[element.get("id", "")] = f"{name}-chart" if element is root else f"{name}-{number}"
        element.set("id", renamed[element.get("id", "")])
    for element in root.iter():
        for key, value in list(element.attrib.items()):
            if key != "id" and "#" in value:
                element.set(key, re.sub(r"#([\w-]+)", lambda m: "#" + renamed.get(m.group(1), m.group(1)), value))


def plain_svg(svg: str, *, name: str, title: str = "") -> str:
    """pygal's SVG flattened (the module's doc): presentation attributes instead of style sheets, no script, no
    class; the root an image named by its title."""
    root = ElementTree.fromstring(svg)  # comments (pygal's, with the day it was drawn) are dropped
    _apply_style_sheets(root)
    _titles_for_values(root)
    _remove(root)
    _own_ids(root, name)
    root.set("role", "img")
    if title:
        root.set("aria-label", title)
    for element in root.iter():  # SVG as the default namespace, written once on the root
        element.tag = _tag(element)
    root.set("xmlns", SVG_NS)
    return ElementTree.tostring(root, encoding="unicode")
