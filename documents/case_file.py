"""Binds the 卷宗 (case file, PML 27) of an archived case: the cover, index, history and audit pages rendered
from a CaseFileContext, every document attached byte for byte as it was issued and sealed (PDF/A-3 associated
files, so each keeps its own seal and hash), every file the parties brought byte for byte as it was received
(withdrawn ones too, marked), and `manifest.json` with every digest. Pure: no database."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC
from typing import Any

from weasyprint import Attachment

from documents.contexts import CaseFileContext
from documents.render import KINDS, render_pdf
from domain.filetypes import BY_MEDIA_TYPE

MANIFEST_NAME = "manifest.json"
MANIFEST_VERSION = 1


@dataclass(frozen=True)
class BoundFile:
    pdf: bytes
    manifest: dict[str, Any]


def manifest_of(context: CaseFileContext) -> dict[str, Any]:
    """What an auditor checks the file against: the SHA-256 of every document bound, and where the trail was."""
    return {
        "manifest_version": MANIFEST_VERSION,
        "kind": "case_file",
        "case_id": context.case_id,
        "file_number": context.file_number,
        "committee": context.committee_name,
        "archived_at": context.archived_at.isoformat(),
        "retention_years": context.retention_years,
        "documents": [
            {"file": d.file, "number": d.number, "title": d.title, "lang": d.lang, "version": d.version,
             "superseded": d.superseded, "sha256": d.sha256, "size": d.size}
            for d in context.documents
        ],
        "attachments": [
            {"file": a.file, "attachment_id": a.attachment_id, "kind": a.kind, "filename": a.filename,
             "media_type": a.media_type, "size": a.size, "sha256": a.sha256, "received_on": a.received_on.isoformat(),
             "withdrawn": a.withdrawn}
            for a in context.attachments
        ],
        "transitions": len(context.transitions),
        "audit_entries": {
            "count": len(context.audit_entries),
            "first_id": context.audit_entries[0].id if context.audit_entries else None,
            "last_id": context.audit_entries[-1].id if context.audit_entries else None,
            "head_hash": context.audit_head_hash,
        },
    }


def bind(context: CaseFileContext, originals: Mapping[str, bytes], *, lang: str = "zh",
         attachment_bytes: Callable[[str], bytes] | None = None) -> BoundFile:
    """`originals`: the stored bytes of each document, by its file name in the context; `attachment_bytes`: the
    stored bytes of a party's file, by its SHA-256. Bytes that do not hash to what the context lists are refused:
    the file binds what was issued and received, or nothing."""
    stamp = context.archived_at.astimezone(UTC).replace(tzinfo=None)
    attachments = []
    for doc in context.documents:
        data = originals[doc.file]
        if hashlib.sha256(data).hexdigest() != doc.sha256:
            raise ValueError(f"{doc.file}: the stored bytes do not match the recorded SHA-256")
        attachments.append(Attachment(string=data, name=doc.file, description=f"{doc.title} {doc.number}",
                                      created=stamp, modified=stamp, relationship="Source"))
    for filed in context.attachments:
        data = attachment_bytes(filed.sha256) if attachment_bytes is not None else b""
        if hashlib.sha256(data).hexdigest() != filed.sha256:
            raise ValueError(f"{filed.file}: the stored bytes do not match the recorded SHA-256")
        attachments.append(Attachment(string=data, name=filed.file,
                                      description=f"{filed.kind_label} {filed.filename}", created=stamp,
                                      modified=stamp, relationship="Source"))
    manifest = manifest_of(context)
    attachments.append(Attachment(
        string=json.dumps(manifest, ensure_ascii=False, indent=2, sort_keys=True).encode(),
        name=MANIFEST_NAME, description=f"{KINDS['case_file'].titles[lang]}: SHA-256 of every document",
        created=stamp, modified=stamp, relationship="Data",
    ))
    return BoundFile(pdf=render_pdf("case_file", context, lang=lang, attachments=attachments), manifest=manifest)


def file_name(kind: str, lang: str, version: int, ident: str) -> str:
    """An attachment's name: ASCII (a PDF name tree and every reader handle it alike), unique within the file;
    the index prints each one beside the document's title and number."""
    return f"{kind}-v{version}-{lang}-{ident[:12]}.pdf"


def attachment_file_name(index: int, kind: str, ident: str, media_type: str) -> str:
    """A party's file inside the 卷宗: ASCII, numbered in the order received, with the extension of its type."""
    known = BY_MEDIA_TYPE.get(media_type)
    return f"attachment-{index:03d}-{kind}-{ident[:12]}{known.extension if known else '.bin'}"
