"""The files the parties bring (docs/attachments.md): upload one to a case, list a case's, read one's record,
download its bytes, withdraw it; an expert's view of the files of a case whose panel they sit on (Reg 42)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Path, Request, UploadFile
from fastapi.responses import StreamingResponse

from api.access import allow, known_case
from api.deps import CaseId, DatabaseDep, ReleasingRoute, SessionDep, SettingsDep
from api.errors import ERROR_RESPONSES, ErrorBody
from api.services import attachments
from core.errors import InvalidField
from domain import filetypes
from domain.access import Caller
from domain.attachments import KINDS, PARTIES, KindCode, PartyCode, safe_filename
from domain.payloads import PastDay
from models.schemas_attachments import AttachmentPublic, AttachmentsPublic, WithdrawIn


class UnsupportedBody(ErrorBody):
    detected: str
    accepted: list[str]


class TooLargeBody(ErrorBody):
    limit_bytes: int | None = None
    left_bytes: int | None = None


ATTACHMENT_RESPONSES: dict[int | str, dict[str, Any]] = {
    **ERROR_RESPONSES,
    404: {"model": ErrorBody, "description": "Unknown case or attachment, or one the caller may not see (another "
          "committee's; for an expert, anything but the medical records and appraisal reports of a case whose open "
          "panel they accepted a seat of: Reg 42)"},
    409: {"model": ErrorBody, "description": "The case is archived: its file is bound (`illegal_transition`), or "
          "the attachment was withdrawn already (`conflict`)"},
    503: {"model": ErrorBody, "description": "The attachments' store or the malware scanner cannot be reached "
          "(`attachment_store_unavailable`, `scan_unavailable`), or the database is busy; `Retry-After` says when "
          "to repeat"},
}
UPLOAD_RESPONSES: dict[int | str, dict[str, Any]] = {
    413: {"model": TooLargeBody, "description": "The file is larger than an attachment may be, or the case's files "
          "would weigh more than a case may hold (`payload_too_large`, with `limit_bytes`)"},
    415: {"model": UnsupportedBody, "description": "The file's bytes are not PDF, JPEG, PNG, TIFF or OFD, whatever "
          "its name says (`unsupported_media_type`, naming what was `detected`)"},
    422: {"model": ErrorBody, "description": "A field is missing or invalid (`invalid_payload`), or the malware "
          "scanner found something (`malware_found`, with its `signature`): nothing was stored"},
}
CONTENT = {200: {"content": {t.media_type: {} for t in filetypes.ACCEPTED},
                 "description": "The file's bytes, as a download (Content-Disposition: attachment), with "
                 "X-Content-SHA256"}}

AttachmentId = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]
InvitationId = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]

router = APIRouter(route_class=ReleasingRoute, tags=["attachments"], responses=ATTACHMENT_RESPONSES)

KIND_HELP = "; ".join(f"{code} {kind.label}" for code, kind in KINDS.items())
PARTY_HELP = "; ".join(f"{code} {label}" for code, label in PARTIES.items())


@router.post("/cases/{case_id}/attachments", status_code=201, responses=UPLOAD_RESPONSES,
             summary="Attach a file a party brought (multipart): PDF, JPEG, PNG, TIFF or OFD, read from its bytes")
async def upload(
    case_id: CaseId,
    request: Request,
    caller: Annotated[Caller, allow("attachments.write")],
    db: DatabaseDep,
    file: Annotated[UploadFile, File(description="the file; its type is read from its bytes")],
    kind: Annotated[KindCode, Form(description=KIND_HELP)],
    party: Annotated[PartyCode, Form(description=f"who gave it: {PARTY_HELP}")],
    received_on: Annotated[PastDay, Form(description="the day the committee received it")],
    description: Annotated[str, Form(max_length=2000)] = "",
) -> AttachmentPublic:
    """Stored by its SHA-256 (the same bytes once, however many attachments name them), scanned first where a
    scanner is configured; the file is never executed nor shown as a page. An attachment is immutable: withdraw
    it to mark it, it is kept."""
    if "\x00" in description:
        raise InvalidField("description", "text may not contain the NUL character (U+0000)")
    form = attachments.UploadForm(kind=kind, party=party, received_on=received_on, description=description.strip(),
                                  filename=safe_filename(file.filename or ""))
    return await attachments.upload(
        db=db, storage=attachments.storage_of(request.app), caller=caller, case_id=case_id,
        known=known_case(request, case_id), source=file.file, declared_size=file.size, form=form)


@router.get("/cases/{case_id}/attachments", summary="A case's attachments: kind, party, size, SHA-256, withdrawn")
def of_case(case_id: CaseId, caller: Annotated[Caller, allow("attachments.list")], session: SessionDep,
            settings: SettingsDep) -> AttachmentsPublic:
    return attachments.of_case(session=session, caller=caller, case_id=case_id, settings=settings)


@router.get("/attachments/{attachment_id}", summary="An attachment's record, with its SHA-256")
def metadata(attachment_id: AttachmentId, caller: Annotated[Caller, allow("attachments.read")],
             session: SessionDep) -> AttachmentPublic:
    """An expert or an auditor reading it is recorded in the audit trail (Reg 42)."""
    return attachments.metadata(session=session, caller=caller, attachment_id=attachment_id)


@router.get("/attachments/{attachment_id}/content", response_class=StreamingResponse, responses=CONTENT,
            summary="Download an attachment's bytes (always as a download, with its SHA-256)")
def content(attachment_id: AttachmentId, request: Request, caller: Annotated[Caller, allow("attachments.read")],
            session: SessionDep) -> StreamingResponse:
    """Streamed from the store. An expert or an auditor downloading it is recorded in the audit trail (Reg 42)."""
    attachment = attachments.readable(session=session, caller=caller, attachment_id=attachment_id)
    chunks = attachments.content(attachments.storage_of(request.app), attachment)
    return StreamingResponse(chunks, media_type=attachment.media_type, headers=attachments.content_headers(attachment))


@router.post("/attachments/{attachment_id}/withdraw", summary="Withdraw an attachment: marked (who, when, why), "
             "kept until its retention period has run out")
def withdraw(attachment_id: AttachmentId, body: WithdrawIn, caller: Annotated[Caller, allow("attachments.write")],
             session: SessionDep) -> AttachmentPublic:
    return attachments.withdraw(session=session, caller=caller, attachment_id=attachment_id, reason=body.reason)


@router.get("/me/invitations/{invitation_id}/attachments",
            summary="The files of my accepted invitation's case: its medical records and appraisal reports")
def for_invitation(invitation_id: InvitationId, caller: Annotated[Caller, allow("portal")],
                   session: SessionDep) -> list[AttachmentPublic]:
    """Shown once you accepted, while the panel is open (Reg 42); each read is recorded in the audit trail."""
    return attachments.for_invitation(session=session, caller=caller, invitation_id=invitation_id)
