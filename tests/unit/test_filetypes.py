"""What a file is, from its bytes (domain/filetypes.py), and the attachments' catalogue (domain/attachments.py):
who sees which kinds (Reg 42), which events take which files, how long a withdrawn file is kept, what names are
stored and offered."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from domain import attachments as rules
from domain import filetypes
from domain.events import EVENTS
from domain.payloads import FinishAppraisal, RecordPayment, Sign


class TestSniffing:
    @pytest.mark.parametrize(("head", "media_type"), [
        (b"%PDF-1.7\n%\xe2\xe3", "application/pdf"),
        (b"\xff\xd8\xff\xe0\x00\x10JFIF", "image/jpeg"),
        (b"\x89PNG\r\n\x1a\n\x00\x00", "image/png"),
        (b"II*\x00\x08\x00\x00\x00", "image/tiff"),
        (b"MM\x00*\x00\x00\x00\x08", "image/tiff"),
    ])
    def test_the_accepted_types_by_their_first_bytes(self, head, media_type):
        sniffed = filetypes.sniff(head)
        assert sniffed.accepted is not None and sniffed.accepted.media_type == media_type

    @pytest.mark.parametrize(("head", "detected"), [
        (b"MZ\x90\x00\x03", "a Windows executable (MZ)"),
        (b"\x7fELF\x02\x01", "an ELF executable"),
        (b"#!/bin/sh\nrm -rf /", "a script (#!)"),
        (b"<!DOCTYPE html><html>", "HTML or other markup"),
        (b"\xef\xbb\xbf  <html><body>", "HTML or other markup"),
        (b"<svg xmlns='http://www.w3.org/2000/svg'><script>", "HTML or other markup"),
        (b"GIF89a\x01\x00", "a GIF image"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "an OLE2 document (old Word or Excel, may hold macros)"),
        (b"just some notes", "plain text"),
        (b"", "an empty file"),
        (b"\x00\x01\x02\x03\x04", "an unknown binary format"),
    ])
    def test_anything_else_is_refused_naming_what_it_looks_like(self, head, detected):
        sniffed = filetypes.sniff(head)
        assert sniffed.accepted is None and sniffed.detected == detected

    def test_a_pdf_is_a_pdf_from_its_first_byte_only(self):
        # a page that carries "%PDF-" further on is still a page: no polyglot is taken for a PDF
        assert filetypes.sniff(b"<html>%PDF-1.7").accepted is None

    def test_a_zip_is_ofd_only_with_ofd_xml_at_its_root(self):
        assert filetypes.sniff(b"PK\x03\x04\x14\x00").zip_candidate
        assert filetypes.is_ofd(["OFD.xml", "Doc_0/Document.xml"])
        assert not filetypes.is_ofd(["word/document.xml", "Doc_0/OFD.xml"])

    def test_a_download_is_named_for_what_its_bytes_are(self):
        assert filetypes.download_name("报告.pdf", "application/pdf") == "报告.pdf"
        assert filetypes.download_name("scan.JPEG", "image/jpeg") == "scan.JPEG"
        assert filetypes.download_name("报告.pdf", "image/png") == "报告.pdf.png"


class TestTheCatalogue:
    def test_experts_are_given_medical_records_and_appraisal_reports_only(self):  # Reg 42
        assert rules.EXPERT_KINDS == {"medical_record", "appraisal_report"}
        assert not rules.visible_to_expert("identity_document", withdrawn=False)
        assert not rules.visible_to_expert("medical_record", withdrawn=True)
        assert rules.visible_to_expert("appraisal_report", withdrawn=False)

    def test_each_event_takes_the_files_that_document_it(self):
        assert rules.EVENT_KINDS == {"record_payment": {"payment_proof"}, "sign": {"signed_paper"},
                                     "finish_appraisal": {"appraisal_report"}}
        assert set(rules.EVENT_KINDS) <= set(EVENTS)
        for payload in (RecordPayment, Sign, FinishAppraisal):
            assert "attachment_ids" in payload.model_fields
        assert not rules.fits_event("medical_record", "record_payment")
        assert "payment_proof" in rules.wrong_kind_message("medical_record", "record_payment")

    def test_a_withdrawn_file_is_kept_for_its_retention_period(self):
        withdrawn = datetime(2026, 1, 1, tzinfo=UTC)
        assert not rules.may_be_deleted(withdrawn_at=None, now=withdrawn + timedelta(days=10_000), retention_days=1)
        assert not rules.may_be_deleted(withdrawn_at=withdrawn, now=withdrawn + timedelta(days=29), retention_days=30)
        assert rules.may_be_deleted(withdrawn_at=withdrawn, now=withdrawn + timedelta(days=30), retention_days=30)

    @pytest.mark.parametrize(("given", "stored"), [
        ("住院病历.pdf", "住院病历.pdf"),
        ("C:\\Users\\王\\Desktop\\回单.png", "回单.png"),
        ("../../etc/passwd", "passwd"),
        ('a"b\r\n.pdf', "ab.pdf"),
        ("", "attachment"),
        ("...", "attachment"),
        ("长" * 300 + ".pdf", "长" * 196 + ".pdf"),
    ])
    def test_the_name_stored_is_the_last_component_without_control_characters(self, given, stored):
        assert rules.safe_filename(given) == stored
