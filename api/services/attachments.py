"""What the attachments' routes ask for (docs/attachments.md): an upload streamed to disk while it is hashed and
counted, its type read from its bytes, scanned, stored by its SHA-256; reads for those the law lets see them
(Reg 42, domain/attachments.py); a withdrawal that marks the file and keeps it; the check of the files an event
names (record_payment, sign, finish_appraisal).

Memory: the upload arrives as a multipart part Starlette spools to a temporary file past 1 MiB; it is read here in
chunks of 64 KiB into a file in the store's staging folder (hashing and counting, stopping with 413 past the limit),
and a download is streamed from the store in chunks. No whole file is held in memory.
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
import uuid
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import BinaryIO
from urllib.parse import quote

from fastapi import FastAPI
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

from api.deps import Database
from core.blobstore import BlobStore, store_of
from core.errors import Conflict, InvalidField, NotFound, PayloadTooLarge, UnsupportedMediaType
from core.scan import Infected, Scanner, scanner_of
from core.settings import Settings
from domain import access, filetypes
from domain import attachments as rules
from domain.access import Caller
from models import repo, repo_attachments, repo_panels
from models.schemas_attachments import AttachmentPublic, AttachmentsPublic
from models.tables import Attachment, Case

log = logging.getLogger("mediation.attachments")
CHUNK = 64 * 1024


# ---------------------------------------------------------------- the app's store and scanner ---------------
@dataclass
class Storage:
    store: BlobStore
    scanner: Scanner | None
    settings: Settings


def storage_of(app: FastAPI) -> Storage:
    """The app's store and scanner, made from its settings on first use."""
    state = app.state
    found = getattr(state, "attachment_storage", None)
    if found is None:
        settings: Settings = state.settings
        found = state.attachment_storage = Storage(store=store_of(settings), scanner=scanner_of(settings),
                                                   settings=settings)
    return found


# ---------------------------------------------------------------- what a caller sees ------------------------
def public(attachment: Attachment, caller: Caller | None = None) -> AttachmentPublic:
    shown = AttachmentPublic(
        id=attachment.id, case_id=attachment.case_id, kind=attachment.kind,  # type: ignore[arg-type]
        kind_label=rules.kind_label(attachment.kind), party=attachment.party,  # type: ignore[arg-type]
        party_label=rules.PARTIES.get(attachment.party, attachment.party), received_on=attachment.received_on,
        description=attachment.description, filename=attachment.filename, media_type=attachment.media_type,
        size=attachment.size, sha256=attachment.sha256, uploaded_by=attachment.uploaded_by,
        uploaded_at=attachment.uploaded_at, withdrawn=attachment.withdrawn_at is not None,
        withdrawn_at=attachment.withdrawn_at, withdrawn_by=attachment.withdrawn_by,
        withdrawn_reason=attachment.withdrawn_reason, event=attachment.event, event_seq=attachment.event_seq,
        content_url=f"/attachments/{attachment.id}/content",
    )
    if caller is None or access.sees_personal_information(caller):
        return shown
    # An auditor or an expert: identity and phone numbers typed into the description are masked (DOMAIN.md).
    return AttachmentPublic.model_validate(access.mask_personal(shown.model_dump(mode="json")))


def _hidden(attachment_id: str) -> NotFound:
    return NotFound(f"attachment {attachment_id!r} not found")


def readable(*, session: Session, caller: Caller, attachment_id: str) -> Attachment:
    """The attachment, if the caller may read it (Reg 42); else 404, as if it did not exist. The path's reach
    check (api/access.py) has already held staff and auditors to the cases they reach; an expert is held here to
    the medical records and appraisal reports of a case whose open panel they accepted a seat of."""
    attachment = repo_attachments.find(session=session, attachment_id=attachment_id)
    if attachment is None:
        raise _hidden(attachment_id)
    if caller.role == "expert":
        if (not caller.expert_id
                or not rules.visible_to_expert(attachment.kind, withdrawn=attachment.withdrawn_at is not None)
                or not repo_attachments.holds_open_seat(session=session, expert_id=caller.expert_id,
                                                        case_id=attachment.case_id)):
            raise _hidden(attachment_id)
    return attachment


def metadata(*, session: Session, caller: Caller, attachment_id: str) -> AttachmentPublic:
    return public(readable(session=session, caller=caller, attachment_id=attachment_id), caller)


def of_case(*, session: Session, caller: Caller, case_id: str, settings: Settings) -> AttachmentsPublic:
    """A case's files, for its staff and auditors. An expert never reaches a case (their files are listed by
    invitation, GET /me/invitations/{id}/attachments): to them the case is not found."""
    if caller.role == "expert":
        raise NotFound(f"case {case_id!r} not found")
    repo.get_case(session=session, case_id=case_id)
    rows = repo_attachments.of_case(session=session, case_id=case_id)
    return AttachmentsPublic(items=[public(row, caller) for row in rows], total_bytes=sum(r.size for r in rows),
                             limit_bytes=settings.attachment_case_max_bytes)


def for_invitation(*, session: Session, caller: Caller, invitation_id: str) -> list[AttachmentPublic]:
    """The files an expert is given for one of their invitations (Reg 42): once accepted, while the panel is open,
    the case's medical records and appraisal reports that stand."""
    try:
        invitation = repo_panels.get_invitation(session=session, invitation_id=invitation_id)
    except NotFound:
        invitation = None
    if invitation is None or not caller.expert_id or invitation.expert_id != caller.expert_id:
        raise NotFound(f"invitation {invitation_id!r} not found")
    if not repo_attachments.holds_open_seat(session=session, expert_id=caller.expert_id, case_id=invitation.case_id) \
            or invitation.status != "accepted":
        raise NotFound(f"no files are shown for invitation {invitation_id!r}: a case's files are given to an expert "
                       "who accepted, while the panel is open")
    rows = repo_attachments.of_case(session=session, case_id=invitation.case_id, kinds=rules.EXPERT_KINDS,
                                    include_withdrawn=False)
    return [public(row, caller) for row in rows]


# ---------------------------------------------------------------- download ----------------------------------
def content_headers(attachment: Attachment) -> dict[str, str]:
    """Always a download, never shown in the browser's page: `attachment`, an ASCII fallback name and the UTF-8
    name (RFC 6266 / RFC 5987), the type the bytes were sniffed as, no sniffing by the browser, no script even if
    opened (a sandboxed, empty policy)."""
    name = filetypes.download_name(attachment.filename, attachment.media_type)
    fallback = "".join(ch if ch.isascii() and (ch.isalnum() or ch in "._-") else "_" for ch in name).strip("_")
    fallback = fallback or f"attachment{filetypes.EXTENSIONS.get(attachment.media_type, ('',))[0]}"
    return {
        "Content-Disposition": f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}",
        "Content-Length": str(attachment.size),
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": "default-src 'none'; sandbox",
        "X-Content-SHA256": attachment.sha256,
    }


def content(storage: Storage, attachment: Attachment) -> Iterator[bytes]:
    """The stored bytes, in chunks (opened now: a store that cannot serve them answers 503 before anything is
    sent)."""
    return storage.store.chunks(attachment.sha256)


# ---------------------------------------------------------------- upload ------------------------------------
@dataclass
class Staged:
    path: Path
    sha256: str
    size: int
    head: bytes


def _stage(source: BinaryIO, store: BlobStore, limit: int) -> Staged:
    """Copy the upload into the store's staging folder a chunk at a time, hashing and counting; past `limit`
    bytes, stop and refuse (413)."""
    folder = store.staging_dir()
    handle, name = tempfile.mkstemp(prefix="upload-", dir=folder)
    path = Path(name)
    digest, size, head = hashlib.sha256(), 0, b""
    try:
        with os.fdopen(handle, "wb") as out:
            source.seek(0)
            while chunk := source.read(CHUNK):
                size += len(chunk)
                if size > limit:
                    raise PayloadTooLarge(f"the file is larger than {limit} bytes, the most an attachment may be "
                                          "(MEDIATION_ATTACHMENT_MAX_BYTES)", limit_bytes=limit)
                if len(head) < filetypes.SNIFF_BYTES:
                    head += chunk[: filetypes.SNIFF_BYTES - len(head)]
                digest.update(chunk)
                out.write(chunk)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return Staged(path=path, sha256=digest.hexdigest(), size=size, head=head)


def media_type_of(staged: Staged) -> str:
    """The type from the bytes (domain/filetypes.py); a ZIP is OFD only if OFD.xml is at its root. Anything else
    is refused (415), naming what it looks like."""
    sniffed = filetypes.sniff(staged.head)
    if sniffed.accepted is not None:
        return sniffed.accepted.media_type
    if sniffed.zip_candidate:
        try:
            with zipfile.ZipFile(staged.path) as archive:
                if filetypes.is_ofd(archive.namelist()):
                    return filetypes.OFD.media_type
        except (zipfile.BadZipFile, OSError, ValueError):
            pass
    raise UnsupportedMediaType(
        f"the file's bytes are {sniffed.detected}; an attachment must be one of {filetypes.accepted_labels()} "
        "(its type is read from its bytes, never from its name)", detected=sniffed.detected,
        accepted=[t.media_type for t in filetypes.ACCEPTED])


@dataclass(frozen=True)
class UploadForm:
    kind: str
    party: str
    received_on: date
    description: str
    filename: str


async def upload(*, db: Database, storage: Storage, caller: Caller, case_id: str, known: Case | None,
                 source: BinaryIO, declared_size: int | None, form: UploadForm) -> AttachmentPublic:
    settings = storage.settings
    limit = settings.attachment_max_bytes

    def room(session: Session) -> int:
        case = known if known is not None else repo.get_case(session=session, case_id=case_id)
        return settings.attachment_case_max_bytes - repo_attachments.case_bytes(session=session, case_id=case.id)

    def refuse_past_room(size: int, left: int) -> None:
        if size > left:
            raise PayloadTooLarge(
                f"the case's attachments would weigh more than {settings.attachment_case_max_bytes} bytes, the most "
                f"a case may hold (MEDIATION_ATTACHMENT_CASE_MAX_BYTES): {max(left, 0)} bytes are left",
                limit_bytes=settings.attachment_case_max_bytes, left_bytes=max(left, 0))

    left = await db.run(room)
    if declared_size is not None:  # known from the multipart part: refused before it is copied
        if declared_size > limit:
            raise PayloadTooLarge(f"the file is larger than {limit} bytes, the most an attachment may be "
                                  "(MEDIATION_ATTACHMENT_MAX_BYTES)", limit_bytes=limit)
        refuse_past_room(declared_size, left)
    staged = await run_in_threadpool(_stage, source, storage.store, limit)
    try:
        refuse_past_room(staged.size, left)
        media_type = media_type_of(staged)
        if storage.scanner is not None:
            result = await run_in_threadpool(storage.scanner, staged.path)
            if not result.clean:
                log.warning("upload to case %s refused: malware %s (sha256 %s)", case_id, result.signature,
                            staged.sha256)
                raise Infected(f"the malware scanner found {result.signature}: the file was not stored",
                               signature=result.signature)
        await run_in_threadpool(storage.store.put, staged.sha256, staged.path)
    finally:
        staged.path.unlink(missing_ok=True)

    def record(session: Session) -> AttachmentPublic:
        refuse_past_room(staged.size, settings.attachment_case_max_bytes
                         - repo_attachments.case_bytes(session=session, case_id=case_id))
        row = repo_attachments.add(session=session, attachment=Attachment(
            id=uuid.uuid4().hex, case_id=case_id, kind=form.kind, party=form.party, received_on=form.received_on,
            description=form.description, filename=form.filename, media_type=media_type, size=staged.size,
            sha256=staged.sha256, store=storage.store.kind, uploaded_by=caller.name or caller.user_id,
            uploaded_by_role=caller.role, uploaded_at=datetime.now(UTC),
        ))
        return public(row, caller)

    return await db.run(record)


# ---------------------------------------------------------------- withdrawal --------------------------------
def withdraw(*, session: Session, caller: Caller, attachment_id: str, reason: str) -> AttachmentPublic:
    """The file is marked withdrawn (who, when, why) and kept: an attachment is never deleted before its retention
    period has run out after the withdrawal."""
    attachment = readable(session=session, caller=caller, attachment_id=attachment_id)
    if attachment.withdrawn_at is not None:
        raise Conflict(f"attachment {attachment_id!r} was withdrawn already ({attachment.withdrawn_by}, "
                       f"{attachment.withdrawn_at.isoformat()})")
    return public(repo_attachments.withdraw(session=session, attachment=attachment, by=caller.name or caller.user_id,
                                            reason=reason, at=datetime.now(UTC)), caller)


# ---------------------------------------------------------------- the events that name files ---------------
def check_for_event(*, session: Session, case_id: str, event: str, attachment_ids: list[str]) -> None:
    """The files an event names: attachments of this case, standing (not withdrawn), of a kind the event takes
    (a payment's proof, a signed paper, an appraisal report); else 422 naming the first that is not."""
    found = repo_attachments.by_ids(session=session, attachment_ids=attachment_ids)
    for index, attachment_id in enumerate(attachment_ids):
        attachment = found.get(attachment_id)
        where = f"attachment_ids.{index}"
        if attachment is None or attachment.case_id != case_id:
            raise InvalidField(where, f"unknown attachment {attachment_id!r}: no attachment of this case has it")
        if attachment.withdrawn_at is not None:
            raise InvalidField(where, f"attachment {attachment_id!r} was withdrawn")
        if not rules.fits_event(attachment.kind, event):
            raise InvalidField(where, rules.wrong_kind_message(attachment.kind, event))


async def link_to_event(*, db: Database, case_id: str, attachment_ids: list[str], event: str, seq: int) -> None:
    """After the action is recorded: each file names the transition that records it. The action stands whatever
    happens here (its payload names the files too)."""
    try:
        await db.run(lambda session: repo_attachments.link_event(session=session, attachment_ids=attachment_ids,
                                                                 event=event, seq=seq))
    except Exception:  # the action was applied: its answer must not become an error
        log.exception("linking attachments %s to %s #%s of case %s failed", attachment_ids, event, seq, case_id)
