"""What a file is, from its first bytes, never from its name: the kinds of file a committee keeps as attachments
(PDF, JPEG, PNG, TIFF, OFD) and, for the refusal's message, what anything else looks like (an executable, a web
page, a script, an archive). Pure.

OFD (GB/T 33190, China's fixed-layout format) is a ZIP container whose root holds `OFD.xml`: its first bytes only
say "ZIP", so `sniff` answers `ZIP_CANDIDATE` and the caller looks inside the archive (`is_ofd`, given the
archive's member names) before calling it OFD.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

SNIFF_BYTES = 512  # how much of the file's start `sniff` reads


@dataclass(frozen=True)
class FileType:
    media_type: str
    extension: str  # with its dot
    label: str  # as the refusal and the console name it


PDF = FileType("application/pdf", ".pdf", "PDF")
JPEG = FileType("image/jpeg", ".jpg", "JPEG")
PNG = FileType("image/png", ".png", "PNG")
TIFF = FileType("image/tiff", ".tif", "TIFF")
OFD = FileType("application/ofd", ".ofd", "OFD")
ACCEPTED: tuple[FileType, ...] = (PDF, JPEG, PNG, TIFF, OFD)
BY_MEDIA_TYPE = {t.media_type: t for t in ACCEPTED}
# The extensions a name may carry for each type (a download keeps the clerk's name when it fits the bytes).
EXTENSIONS: dict[str, tuple[str, ...]] = {
    PDF.media_type: (".pdf",), JPEG.media_type: (".jpg", ".jpeg", ".jpe"), PNG.media_type: (".png",),
    TIFF.media_type: (".tif", ".tiff"), OFD.media_type: (".ofd",),
}

ZIP_CANDIDATE = "zip"  # a ZIP archive: OFD if OFD.xml is at its root (`is_ofd`)


@dataclass(frozen=True)
class Sniffed:
    """What the first bytes say: an accepted type, a ZIP to look into, or a refusal naming what was seen."""

    accepted: FileType | None = None
    zip_candidate: bool = False
    detected: str = ""  # what it looks like, when refused


_MAGIC: tuple[tuple[bytes, FileType], ...] = (
    (b"%PDF-", PDF),
    (b"\xff\xd8\xff", JPEG),
    (b"\x89PNG\r\n\x1a\n", PNG),
    (b"II*\x00", TIFF),
    (b"MM\x00*", TIFF),
)
# What a refused file looks like, checked in order; the first that matches names it.
_REFUSED: tuple[tuple[bytes, str], ...] = (
    (b"MZ", "a Windows executable (MZ)"),
    (b"\x7fELF", "an ELF executable"),
    (b"\xca\xfe\xba\xbe", "a Mach-O or Java class file"),
    (b"\xcf\xfa\xed\xfe", "a Mach-O executable"),
    (b"\xfe\xed\xfa\xcf", "a Mach-O executable"),
    (b"#!", "a script (#!)"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "an OLE2 document (old Word or Excel, may hold macros)"),
    (b"Rar!", "a RAR archive"),
    (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"GIF87a", "a GIF image"),
    (b"GIF89a", "a GIF image"),
    (b"BM", "a BMP image"),
    (b"{\\rtf", "an RTF document"),
)
_MARKUP = (b"<!doctype", b"<html", b"<head", b"<body", b"<script", b"<svg", b"<?xml", b"<iframe", b"<a ", b"<img",
           b"<div", b"<meta", b"<style", b"<!--")


def sniff(head: bytes) -> Sniffed:
    """The type of a file from its first bytes (at least `SNIFF_BYTES` of them when the file is that long)."""
    for magic, kind in _MAGIC:
        if head.startswith(magic):
            return Sniffed(accepted=kind)
    if head.startswith(b"PK\x03\x04"):
        return Sniffed(zip_candidate=True, detected="a ZIP archive without OFD.xml at its root (not OFD)")
    for magic, name in _REFUSED:
        if head.startswith(magic):
            return Sniffed(detected=name)
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if any(text.startswith(tag) for tag in _MARKUP) or b"<script" in text or b"<html" in text:
        return Sniffed(detected="HTML or other markup")
    if not head:
        return Sniffed(detected="an empty file")
    if _is_text(head):
        return Sniffed(detected="plain text")
    return Sniffed(detected="an unknown binary format")


def _is_text(head: bytes) -> bool:
    try:
        head.decode("utf-8")
    except UnicodeDecodeError:
        # a multi-byte character cut at the end of the sample is still text
        try:
            head[:-3].decode("utf-8")
        except UnicodeDecodeError:
            return False
    return not any(byte < 9 or 13 < byte < 32 for byte in head)


def is_ofd(member_names: Iterable[str]) -> bool:
    """An OFD package: `OFD.xml` at the root of the ZIP (GB/T 33190 §7.2: the package's entry file)."""
    return any(name == "OFD.xml" or name.lower() == "ofd.xml" for name in member_names)


def accepted_labels() -> str:
    return ", ".join(t.label for t in ACCEPTED)


def download_name(filename: str, media_type: str) -> str:
    """The name a download offers: the clerk's, with the extension of what the bytes are appended when the name
    says otherwise (`report.pdf` that is a PNG downloads as `report.pdf.png`)."""
    extensions = EXTENSIONS.get(media_type, ())
    if not extensions or filename.lower().endswith(extensions):
        return filename
    return filename + extensions[0]
