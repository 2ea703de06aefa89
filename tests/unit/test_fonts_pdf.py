"""The faces the documents are printed in (documents/fonts.py): Noto Serif CJK SC cut down to GB 2312 and its
non-Han characters, bundled in documents/static/fonts/, then the installed Noto Serif CJK SC for any other character.

The bundled faces must print exactly what the installed face prints (same glyphs, same widths, so the same page
breaks), keep the PDFs small and their text extractable."""

from __future__ import annotations

import io
from typing import Any

import pytest
from fontTools.pens.boundsPen import BoundsPen
from fontTools.ttLib import TTFont
from pypdf import PdfReader

from documents import fonts
from documents.render import pdf_from_html
from tests.pdf_text import flat, page_parts

COMMON = "人民调解协议书：患方（签名或捺印）〔2026〕沪黄医调字第12号，合计人民币壹拾贰万元整。Agreement 3.5%"
OUTSIDE_GB2312 = "堃"  # common in given names, in GBK but not in GB 2312


@pytest.fixture(scope="module")
def installed() -> dict[str, TTFont]:
    return {
        style: TTFont(fonts.SOURCE_DIR / name, fontNumber=fonts.SOURCE_INDEX, lazy=True)
        for style, name in fonts.FACES.items()
    }


@pytest.fixture(scope="module")
def bundled() -> dict[str, TTFont]:
    return {style: TTFont(fonts.FONTS_DIR / fonts.file_name(style)) for style in fonts.FACES}


def embedded(pdf: bytes) -> dict[str, bytes]:
    """Each embedded font's name (without the subset tag) and its font program."""
    found: dict[str, bytes] = {}
    for page in PdfReader(io.BytesIO(pdf)).pages:
        for font in page["/Resources"]["/Font"].values():
            font = font.get_object()
            descriptor: Any = font["/DescendantFonts"][0].get_object()["/FontDescriptor"]
            program = descriptor.get("/FontFile3") or descriptor.get("/FontFile2")
            found[str(font["/BaseFont"]).split("+", 1)[1]] = program.get_object().get_data()
    return found


def text(pdf: bytes) -> str:
    """The text of the pages' bodies (without the page numbers)."""
    return flat("".join(page_parts(page)[0] for page in PdfReader(io.BytesIO(pdf)).pages))


def page(body: str) -> str:
    return f'<html lang="zh-CN"><body><p>{body}</p></body></html>'


@pytest.mark.parametrize("style", list(fonts.FACES))
def test_the_bundled_faces_have_the_installed_faces_widths_for_all_of_gb2312(
    style: str, installed: dict[str, TTFont], bundled: dict[str, TTFont]
) -> None:
    source, face = installed[style], bundled[style]
    source_cmap, cmap = source.getBestCmap(), face.getBestCmap()
    wanted = fonts.characters(source)
    assert fonts.gb2312() <= wanted == set(cmap)
    widths = [
        (chr(code), source["hmtx"][source_cmap[code]][0], face["hmtx"][cmap[code]][0])
        for code in sorted(cmap)
    ]
    assert [w for w in widths if w[1] != w[2]] == []
    assert (
        face["head"].unitsPerEm == source["head"].unitsPerEm
        and face["OS/2"].sTypoAscender == source["OS/2"].sTypoAscender
    )


@pytest.mark.parametrize("style", list(fonts.FACES))
def test_the_bundled_faces_have_the_installed_faces_outlines(
    style: str, installed: dict[str, TTFont], bundled: dict[str, TTFont]
) -> None:
    source, face = installed[style], bundled[style]
    for character in COMMON:
        bounds = []
        for font in (source, face):
            pen = BoundsPen(font.getGlyphSet())
            font.getGlyphSet()[font.getBestCmap()[ord(character)]].draw(pen)
            bounds.append(pen.bounds)
        assert bounds[0] == bounds[1], character


def test_common_text_is_printed_by_the_bundled_faces_only_and_reads_back() -> None:
    pdf = pdf_from_html(page(f"{COMMON}<b>{COMMON}</b>"))
    assert set(embedded(pdf)) == {"Mediation-Serif-SC", "Mediation-Serif-SC-Bold"}
    assert text(pdf) == flat(COMMON * 2)


def test_the_embedded_subsets_stay_small() -> None:
    # WeasyPrint keeps glyph ids: a subset of the whole collection's face weighs some 900 KB before compression
    for name, program in embedded(pdf_from_html(page(COMMON))).items():
        assert len(program) < 100_000, (name, len(program))


def test_a_character_outside_gb2312_is_printed_by_the_installed_face() -> None:
    pdf = pdf_from_html(page(f"患方王{OUTSIDE_GB2312}"))
    assert set(embedded(pdf)) == {"Mediation-Serif-SC", "Noto-Serif-CJK-SC"}
    assert text(pdf) == f"患方王{OUTSIDE_GB2312}"
