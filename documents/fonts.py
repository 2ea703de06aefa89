"""The faces the documents are printed in: Noto Serif CJK SC cut down to the characters of GB 2312 and every
character of the face that is not a Han ideograph or a Hangul syllable, bundled in documents/static/fonts/.

Why: WeasyPrint embeds each face it uses as a subset that keeps the glyph ids of the whole face, so its tables
(the widths, the vertical metrics, the CFF index) have one entry for every glyph up to the highest one a document
uses. Noto Serif CJK SC has 65,535 glyphs: about 900 KB per face to build and compress for every document, some
70 ms of a Chinese agreement. The bundled faces have about 12,000 glyphs, the same outlines and metrics, so the
pages are the same (pixel for pixel), and the glyphs of the most used characters come first (the documents' own
wording, then GB 2312 in its order of frequency), so a typical document's subsets end near glyph 5,000: a sixth of
the cost. A character outside them (a rare one in a name) is printed by the next family of the style, the
installed Noto Serif CJK SC (Debian package fonts-noto-cjk), whose face is then embedded as before.

Regenerate after an update of fonts-noto-cjk, or to put the templates' new wording first (under a minute a face):

    python -m documents.fonts
"""

from __future__ import annotations

import argparse
from pathlib import Path

from fontTools import subset
from fontTools.ttLib import TTFont
from fontTools.ttLib.reorderGlyphs import reorderGlyphs

FONTS_DIR = Path(__file__).resolve().parent / "static" / "fonts"
TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"
SOURCE_DIR = Path("/usr/share/fonts/opentype/noto")
SOURCE_INDEX = 2  # the SC face of each Noto Serif CJK collection (JP, KR, SC, TC, HK)
FAMILY = "Mediation Serif SC"
FACES = {"Regular": "NotoSerifCJK-Regular.ttc", "Bold": "NotoSerifCJK-Bold.ttc"}
# Shaping as HarfBuzz does it for lang="zh-CN" (ZHS) and for any other language (dflt): the other languages'
# variants (Japanese, Korean, traditional forms) would add some 6,000 glyphs no document prints.
LANGUAGE_SYSTEMS = ("dflt", "ZHS")
SCRIPTS = ("DFLT", "cyrl", "grek", "hang", "hani", "kana", "latn")


def file_name(style: str) -> str:
    return f"{FAMILY.replace(' ', '')}-{style}.otf"


def _is_han_or_hangul(code: int) -> bool:
    return (
        0x2E80 <= code <= 0x2FDF  # radicals
        or 0x3400 <= code <= 0x4DBF  # extension A
        or 0x4E00 <= code <= 0x9FFF  # unified ideographs
        or 0xAC00 <= code <= 0xD7AF  # Hangul syllables
        or 0xF900 <= code <= 0xFAFF  # compatibility ideographs
        or code >= 0x20000  # extensions B and later
    )


def gb2312() -> set[int]:
    """The 7,445 characters of GB 2312 (6,763 hanzi and 682 other characters)."""
    found = set()
    for high in range(0xA1, 0xF8):
        for low in range(0xA1, 0xFF):
            try:
                found.add(ord(bytes((high, low)).decode("gb2312")))
            except UnicodeDecodeError:
                continue
    return found


def characters(face: TTFont) -> set[int]:
    """What the bundled face keeps of `face`: GB 2312, and every character that is not Han or Hangul."""
    mapped = set(face.getBestCmap())
    return {code for code in mapped if not _is_han_or_hangul(code)} | (gb2312() & mapped)


def wording() -> list[int]:
    """The characters of the documents' own wording (templates, labels, amounts in capitals), in order of use."""
    sources = sorted(TEMPLATES_DIR.glob("*.html")) + sorted(Path(__file__).parent.glob("*.py"))
    text = "".join(path.read_text(encoding="utf-8") for path in sources)
    return [code for code in dict.fromkeys(map(ord, text)) if code > 0x7F]


def _substitutes(face: TTFont) -> dict[str, list[str]]:
    """The glyphs that shaping may put in place of each glyph (single substitutions: the forms of punctuation and
    digits in context)."""
    mapping: dict[str, list[str]] = {}
    for lookup in face["GSUB"].table.LookupList.Lookup:
        for subtable in lookup.SubTable:
            if subtable.LookupType == 7:  # an extension: the subtable is inside
                subtable = subtable.ExtSubTable
            if subtable.LookupType == 1:
                for source, target in subtable.mapping.items():
                    mapping.setdefault(source, []).append(target)
    return mapping


def _most_used_first(face: TTFont) -> None:
    """Puts the glyphs of the most used characters first: Latin and the punctuation, the documents' own wording,
    GB 2312's first level (the 3,755 most used hanzi), its second level, then the rest. WeasyPrint's subsets keep
    glyph ids, so their tables end at the highest glyph a document uses: most documents embed half of them."""
    cmap = face.getBestCmap()
    old_order = face.getGlyphOrder()
    priority = [*range(0x20, 0x250), *range(0x2000, 0x2070), *range(0x3000, 0x3040), *range(0xFF00, 0xFFF0)]
    priority += wording()
    for high in range(0xA1, 0xF8):  # GB 2312 in its own order: symbols, level 1, level 2
        for low in range(0xA1, 0xFF):
            try:
                priority.append(ord(bytes((high, low)).decode("gb2312")))
            except UnicodeDecodeError:
                continue
    substitutes = _substitutes(face)
    first = [
        glyph for code in priority if code in cmap for glyph in (cmap[code], *substitutes.get(cmap[code], ()))
    ]
    new_order = list(dict.fromkeys([old_order[0], *first, *old_order]))
    top = face["CFF "].cff.topDictIndex[0]
    for name in old_order:  # each charstring decompiled with its own font dict's subroutines before the move
        top.CharStrings[name].decompile()
    old_fd = top.FDSelect.gidArray
    old_gid = {name: gid for gid, name in enumerate(old_order)}
    reorderGlyphs(face, new_order)  # cmap, metrics, layout tables, the CFF charset
    top.FDSelect.gidArray = [old_fd[old_gid[name]] for name in new_order]


def _rename(face: TTFont, style: str) -> None:
    postscript = f"{FAMILY.replace(' ', '')}-{style}"
    names = {
        1: FAMILY,
        2: style,
        3: f"{postscript};documents/fonts.py",
        4: f"{FAMILY} {style}",
        6: postscript,
        16: FAMILY,
        17: style,
    }
    table = face["name"]
    for record in list(table.names):
        if record.nameID in names or record.nameID == 7:  # no trademark: this is not the vendor's font
            table.removeNames(nameID=record.nameID)
    for name_id, value in names.items():
        table.setName(value, name_id, 3, 1, 0x409)
        table.setName(value, name_id, 1, 0, 0)
    source = "Subset of Noto Serif CJK SC (SIL Open Font License 1.1): GB 2312 and the non-Han characters."
    table.setName(source, 10, 3, 1, 0x409)
    cff = face["CFF "].cff
    cff.fontNames = [postscript]
    top = cff.topDictIndex[0]
    top.FullName, top.FamilyName = f"{FAMILY} {style}", FAMILY


def build(style: str, source_dir: Path = SOURCE_DIR, out_dir: Path = FONTS_DIR) -> Path:
    """Cuts the SC face of the installed collection down (see the module's doc) and writes it to `out_dir`."""
    face = TTFont(source_dir / FACES[style], fontNumber=SOURCE_INDEX)
    options = subset.Options()
    options.retain_gids = False
    options.hinting = False  # WeasyPrint drops the hints of what it embeds
    options.notdef_outline = True
    options.name_IDs = ["*"]
    options.name_languages = ["*"]
    options.name_legacy = True
    options.layout_scripts = [f"{script}.{lang}" for script in SCRIPTS for lang in LANGUAGE_SYSTEMS]
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=characters(face))
    subsetter.subset(face)
    _most_used_first(face)
    _rename(face, style)
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / file_name(style)
    face.recalcTimestamp = False  # the source's date: the same collection gives the same bytes
    face.save(path)
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--source", type=Path, default=SOURCE_DIR, help="where fonts-noto-cjk put its collections"
    )
    args = parser.parse_args(argv)
    for style in FACES:
        path = build(style, args.source)
        print(f"{path}: {path.stat().st_size // 1024} KiB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
