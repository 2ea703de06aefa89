"""Reading generated PDFs back: the text of the page body apart from the margins (running header, page
number), and text compared regardless of where lines were broken."""

from __future__ import annotations

import re
from typing import Any
from xml.etree import ElementTree

from pypdf import PageObject, PdfReader

MM = 72 / 25.4
PAGE_TOP_MARGIN = 30 * MM  # the page margins of documents/static/print.css
PAGE_BOTTOM_MARGIN = 26 * MM
PDFAID = "http://www.aiim.org/pdfa/ns/id/"


def page_parts(page: PageObject) -> tuple[str, str]:
    """The text of the page body and of its margins (running header, page number)."""
    height = float(page.mediabox.height)
    body: list[str] = []
    margins: list[str] = []

    def visit(text: str, cm: list[float], tm: list[float], font: Any, size: Any) -> None:
        y = tm[4] * cm[1] + tm[5] * cm[3] + cm[5]
        (body if PAGE_BOTTOM_MARGIN < y < height - PAGE_TOP_MARGIN else margins).append(text)

    page.extract_text(visitor_text=visit)
    return "\n".join(body), "\n".join(margins)


def flat(text: str) -> str:
    """Without any whitespace: Chinese text is compared regardless of where lines were broken."""
    return re.sub(r"\s+", "", text)


def words(text: str) -> str:
    """Whitespace runs as one space: English text is compared regardless of where lines were broken."""
    return " ".join(text.split())


def xmp_pdfa(reader: PdfReader) -> dict[str, str]:
    """The PDF/A identification of the XMP metadata (pdfaid:part, pdfaid:conformance)."""
    xml = reader.trailer["/Root"]["/Metadata"].get_object().get_data()
    found: dict[str, str] = {}
    for element in ElementTree.fromstring(xml).iter():
        for key, value in element.attrib.items():
            if key.startswith(f"{{{PDFAID}}}"):
                found[key.split("}")[1]] = value
        if element.tag.startswith(f"{{{PDFAID}}}"):
            found[element.tag.split("}")[1]] = (element.text or "").strip()
    return found
