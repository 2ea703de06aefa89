"""Request and response schemas of the attachments (docs/attachments.md)."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, ConfigDict, Field

from domain.attachments import KindCode, PartyCode
from domain.payloads import LocalTime, Strict


class AttachmentPublic(BaseModel):
    """An attachment as staff and auditors see it: what it is, who gave it, its size and SHA-256, whether it was
    withdrawn (who, when, why), and the event that records it, if one does."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    case_id: str
    kind: KindCode
    kind_label: str = Field(examples=["病历资料"])
    party: PartyCode
    party_label: str = Field(examples=["患方"])
    received_on: date
    description: str
    filename: str = Field(description="the name it was uploaded with (the download's name)")
    media_type: str = Field(description="what the bytes are (sniffed from them, never from the name)",
                            examples=["application/pdf"])
    size: int = Field(description="bytes")
    sha256: str
    uploaded_by: str
    uploaded_at: LocalTime
    withdrawn: bool
    withdrawn_at: LocalTime | None = None
    withdrawn_by: str | None = None
    withdrawn_reason: str | None = None
    event: str | None = Field(default=None, description="the event whose record it documents (record_payment, "
                              "sign, finish_appraisal)")
    event_seq: int | None = None
    content_url: str = Field(description="where its bytes are downloaded")


class AttachmentsPublic(BaseModel):
    items: list[AttachmentPublic]
    total_bytes: int = Field(description="what the case's attachments weigh, withdrawn ones included")
    limit_bytes: int = Field(description="the most a case's attachments may weigh (the installation's setting)")


class WithdrawIn(Strict):
    reason: str = Field(min_length=1, max_length=2000, examples=["患方提交有误，已另行提交更正后的病历"])
