"""The committee's seal on a generated document (shared/DOMAIN.md "Documents": every notice and agreement
bears the committee's seal; "Generated documents are never edited").

A rendered 受理通知书 is sealed with a throwaway self-signed committee certificate (PAdES B-B, an incremental
update), then verified the way an auditor would: against the committee's certificate, after one byte is
changed, against a certificate the auditor does not trust, and after a later revision is appended.
`mediation seal init` and `mediation seal verify` run as the console script on temporary folders.
"""

from __future__ import annotations

import io
import json
import os
import re
import stat
import subprocess
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from cryptography import x509
from cryptography.x509.oid import NameOID
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pypdf import PdfReader

from documents.contexts import AcceptanceNoticeContext, PartyBlock, SealBlock
from documents.render import render_pdf
from documents.seal import SealKey, SealKeyError, generate_committee_key, seal_pdf, verify_pdf

MEDIATION = str(Path(sys.executable).parent / "mediation")
SHANGHAI = ZoneInfo("Asia/Shanghai")
COMMITTEE = "上海市黄浦区医疗纠纷人民调解委员会"
NUMBER = "〔2026〕沪黄医调受字第12号"
NOTICE = AcceptanceNoticeContext(
    committee_name=COMMITTEE,
    case_number="〔2026〕沪黄医调字第12号",
    document_number=NUMBER,
    issued_at=datetime(2026, 1, 20, 10, 0, tzinfo=SHANGHAI),
    parties=(
        PartyBlock(side="patient", name="王大明", agents=("张三（患者之子，委托代理人）",)),
        PartyBlock(side="institution", name="上海市某某医院", agents=("赵六（医务处处长）",)),
    ),
    seal=SealBlock(committee_name=COMMITTEE, sealed_on=date(2026, 1, 20)),
    accepted_on=date(2026, 1, 20),
    deadline=date(2026, 3, 9),
    mediators=("陈七", "周八"),
)


@pytest.fixture(scope="module")
def key(tmp_path_factory: pytest.TempPathFactory) -> SealKey:
    return SealKey.load(*generate_committee_key(COMMITTEE, tmp_path_factory.mktemp("committee")))


@pytest.fixture(scope="module")
def stranger(tmp_path_factory: pytest.TempPathFactory) -> SealKey:
    """Another certificate bearing the very same name: a name is not trust."""
    return SealKey.load(*generate_committee_key(COMMITTEE, tmp_path_factory.mktemp("stranger")))


@pytest.fixture(scope="module")
def rendered() -> bytes:
    return render_pdf("acceptance_notice", NOTICE)


@pytest.fixture(scope="module")
def sealed(rendered: bytes, key: SealKey) -> bytes:
    return seal_pdf(rendered, key=key, reason=f"受理通知书 {NUMBER}", location="上海市", name=COMMITTEE)


def byte_range(pdf: bytes) -> tuple[int, int, int, int]:
    found = re.search(rb"/ByteRange\s*\[\s*(\d+)\s+(\d+)\s+(\d+)\s+(\d+)", pdf)
    assert found is not None
    a, b, c, d = map(int, found.groups())
    return a, b, c, d


def flip_one_byte_in_a_stream(pdf: bytes) -> bytes:
    """Changes one byte in the middle of the largest stream (the embedded font) of the signed revision."""
    _, signed_end, _, _ = byte_range(pdf)
    starts = [m.end() for m in re.finditer(rb"stream\r?\n", pdf[:signed_end])]
    streams = [(start, pdf.index(b"endstream", start)) for start in starts]
    start, end = max(streams, key=lambda s: s[1] - s[0])
    position = (start + end) // 2
    changed = bytearray(pdf)
    changed[position] ^= 0x01
    return bytes(changed)


class TestSealing:
    def test_the_seal_is_an_incremental_update_over_the_rendered_bytes(self, rendered, sealed):
        assert sealed.startswith(rendered)  # the PDF/A-3b revision render.py wrote is kept byte for byte
        assert len(sealed) - len(rendered) < 32_000

    def test_the_sealed_pdf_still_reads_as_pdf_a_3b_with_its_text_and_data(self, sealed):
        reader = PdfReader(io.BytesIO(sealed))
        text = "".join("".join(page.extract_text().split()) for page in reader.pages)
        assert "受理通知书" in text and NUMBER in text and "王大明" in text
        assert "acceptance_notice.json" in reader.attachments  # the context, for the auditor
        xmp = reader.trailer["/Root"]["/Metadata"].get_object().get_data().decode("utf-8")
        assert 'pdfaid:part="3"' in xmp and 'pdfaid:conformance="B"' in xmp
        producer = re.search(r'pdf:Producer="([^"]*)"', xmp)
        assert producer is not None and reader.metadata["/Producer"] == producer.group(1)  # PDF/A: the same
        widget = reader.trailer["/Root"]["/AcroForm"]["/Fields"][0].get_object()
        assert widget["/FT"] == "/Sig" and widget["/F"] & 4  # printable, as PDF/A requires

    def test_the_seal_is_a_pades_certification_that_allows_no_change(self, sealed):
        reader = PdfReader(io.BytesIO(sealed))
        signature = reader.trailer["/Root"]["/AcroForm"]["/Fields"][0].get_object()["/V"].get_object()
        assert signature["/SubFilter"] == "/ETSI.CAdES.detached"
        assert signature["/Reason"] == f"受理通知书 {NUMBER}"
        assert "/DocMDP" in reader.trailer["/Root"]["/Perms"]  # a generated document is never edited


class TestVerification:
    def test_a_sealed_notice_is_valid_against_the_committee_certificate(self, sealed, key):
        report = verify_pdf(sealed, trusted=[key.certificate])
        assert (report.signed, report.intact, report.valid) == (True, True, True)
        assert report.problems == []
        assert COMMITTEE in (report.signer or "")
        assert report.covers_whole_file and report.coverage == "ENTIRE_FILE"
        assert report.signed_at is not None and abs(report.signed_at - datetime.now(UTC)) < timedelta(hours=1)
        assert report.as_dict()["signed_at"] == report.signed_at.isoformat()

    def test_one_byte_changed_inside_the_signed_range_is_neither_intact_nor_valid(self, sealed, key):
        report = verify_pdf(flip_one_byte_in_a_stream(sealed), trusted=[key.certificate])
        assert (report.signed, report.intact, report.valid) == (True, False, False)
        assert any("modified" in problem for problem in report.problems)

    def test_a_certificate_the_verifier_does_not_trust_leaves_it_intact_but_not_valid(self, sealed, stranger):
        report = verify_pdf(sealed, trusted=[stranger.certificate])
        assert (report.signed, report.intact, report.valid) == (True, True, False)
        assert any("does not chain to a trusted certificate" in problem for problem in report.problems)

    def test_no_trusted_certificate_means_not_valid(self, sealed):
        report = verify_pdf(sealed, trusted=[])
        assert (report.intact, report.valid) == (True, False)
        assert "no trusted certificate is configured" in report.problems

    def test_a_revision_that_draws_on_the_page_after_the_seal_is_not_valid(self, sealed, key):
        writer = IncrementalPdfFileWriter(io.BytesIO(sealed))
        drawing = writer.add_object(generic.StreamObject(stream_data=b"0 0 m 100 100 l S"))
        writer.add_stream_to_page(0, drawing)
        output = io.BytesIO()
        writer.write(output)
        report = verify_pdf(output.getvalue(), trusted=[key.certificate])
        assert report.signed and report.intact  # the sealed revision itself is untouched
        assert not report.covers_whole_file and not report.valid
        assert any("changed after it was sealed" in problem for problem in report.problems)

    def test_a_later_metadata_revision_is_allowed_but_reported(self, sealed, key):  # as PAdES allows
        writer = IncrementalPdfFileWriter(io.BytesIO(sealed))
        info = writer.trailer.raw_get("/Info")
        info.get_object()["/Keywords"] = generic.TextStringObject("归档")
        writer.mark_update(info)
        output = io.BytesIO()
        writer.write(output)
        report = verify_pdf(output.getvalue(), trusted=[key.certificate])
        assert report.valid and not report.covers_whole_file
        assert any("a revision was added after the seal" in problem for problem in report.problems)

    def test_an_unsealed_pdf_is_reported_as_such(self, rendered, key):
        report = verify_pdf(rendered, trusted=[key.certificate])
        assert (report.signed, report.valid) == (False, False)
        assert report.problems == ["the document is not sealed"]

    @pytest.mark.parametrize("data", [b"", b"not a PDF at all", b"%PDF-1.7\n%%EOF\n"])
    def test_what_is_not_a_pdf_is_a_finding_not_an_error(self, data, key):
        report = verify_pdf(data, trusted=[key.certificate])
        assert not report.signed and not report.valid and report.problems


class TestCommitteeKey:
    def test_a_generated_certificate_names_the_committee_and_lasts_ten_years(self, tmp_path):
        key_path, cert_path = generate_committee_key(COMMITTEE, tmp_path)
        certificate = x509.load_pem_x509_certificate(cert_path.read_bytes())
        subject = certificate.subject
        assert subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == COMMITTEE
        assert subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)[0].value == COMMITTEE
        assert subject.get_attributes_for_oid(NameOID.COUNTRY_NAME)[0].value == "CN"
        assert certificate.issuer == subject  # self-signed
        assert certificate.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
        usage = certificate.extensions.get_extension_for_class(x509.KeyUsage).value
        assert usage.content_commitment and usage.digital_signature and usage.key_cert_sign
        years = certificate.not_valid_after_utc.year - certificate.not_valid_before_utc.year
        assert years == 10
        assert stat.S_IMODE(key_path.stat().st_mode) == 0o600  # the private key: its owner only

    def test_a_key_with_a_passphrase_loads_only_with_it(self, tmp_path):
        paths = generate_committee_key(COMMITTEE, tmp_path, passphrase="长长的口令 phrase")
        assert SealKey.load(*paths, passphrase="长长的口令 phrase").subject.startswith("Common Name: " + COMMITTEE)
        for wrong in (None, "wrong"):
            with pytest.raises(SealKeyError):
                SealKey.load(*paths, passphrase=wrong)

    def test_a_key_that_is_not_the_certificate_key_is_refused(self, tmp_path):
        key_path, _ = generate_committee_key(COMMITTEE, tmp_path / "one")
        _, other_cert = generate_committee_key(COMMITTEE, tmp_path / "two")
        with pytest.raises(SealKeyError, match="is not the key of"):
            SealKey.load(key_path, other_cert)

    def test_missing_files_are_a_seal_key_error(self, tmp_path: Path):
        with pytest.raises(SealKeyError, match="cannot read"):
            SealKey.load(tmp_path / "key.pem", tmp_path / "cert.pem")


class TestCommandLine:
    @pytest.fixture
    def mediation(self, tmp_path: Path):
        env = {**os.environ, "MEDIATION_DATA_DIR": str(tmp_path / "data"), "MEDIATION_LOG_LEVEL": "WARNING",
               "MEDIATION_DATABASE_URL": f"sqlite:///{tmp_path / 'mediation.db'}"}

        def run(*args: str) -> subprocess.CompletedProcess[str]:
            return subprocess.run([MEDIATION, *args], env=env, capture_output=True, text=True, timeout=120,
                                  cwd=tmp_path, check=False)

        return run

    def test_init_db_makes_the_key_then_seal_init_replaces_it_only_when_forced(self, mediation, tmp_path):
        key, cert = tmp_path / "data" / "seal-key.pem", tmp_path / "data" / "seal-cert.pem"
        assert mediation("init-db").returncode == 0  # `make run`: the first start makes a self-signed seal
        first = cert.read_bytes()
        assert key.exists() and b"BEGIN CERTIFICATE" in first
        again = mediation("seal", "init")
        assert again.returncode == 1 and "--force" in again.stderr  # a key is never replaced by accident
        assert cert.read_bytes() == first
        forced = mediation("seal", "init", "--force", "--name", COMMITTEE)
        assert forced.returncode == 0, forced.stderr
        assert f"CN={COMMITTEE}" in forced.stdout and cert.read_bytes() != first

    def test_each_committee_seals_with_its_own_certificate_named_after_it(self, mediation, tmp_path):
        # rev 2 of the documents: the seal's subject is the committee that issues the document, never a demo name
        assert mediation("init-db").returncode == 0  # the demo committees get their own seals at the first start
        data = tmp_path / "data"
        for committee_id, name in (("huangpu", "上海市黄浦区医疗纠纷人民调解委员会"), ("xuhui", "上海市徐汇区医疗纠纷人民调解委员会")):
            folder = data / "seals" / committee_id
            assert SealKey.load(folder / "seal-key.pem", folder / "seal-cert.pem").subject.startswith(
                f"Common Name: {name}")
        again = mediation("seal", "init", "--committee", "huangpu")
        assert again.returncode == 1 and "--force" in again.stderr  # never replaced by accident
        forced = mediation("seal", "init", "--force", "--committee", "huangpu")
        assert forced.returncode == 0 and "CN=上海市黄浦区医疗纠纷人民调解委员会" in forced.stdout, forced.stderr
        unknown = mediation("seal", "init", "--force", "--committee", "nowhere")
        assert unknown.returncode != 0 and "huangpu" in unknown.stderr  # the committees it knows

    def test_seal_verify_exits_0_when_valid_and_1_when_not(self, mediation, tmp_path, rendered, key,
                                                           stranger):
        data = tmp_path / "data"
        data.mkdir()
        (data / "seal-cert.pem").write_bytes(key.certificate.dump())  # the configured one (DER is read too)
        sealed = seal_pdf(rendered, key=key, reason="受理通知书", location="上海市", name=COMMITTEE)
        (tmp_path / "sealed.pdf").write_bytes(sealed)
        (tmp_path / "tampered.pdf").write_bytes(flip_one_byte_in_a_stream(sealed))

        good = mediation("seal", "verify", "sealed.pdf")
        assert good.returncode == 0, good.stdout + good.stderr
        assert json.loads(good.stdout)["valid"] is True

        tampered = mediation("seal", "verify", "tampered.pdf")
        assert tampered.returncode == 1
        assert json.loads(tampered.stdout)["intact"] is False

        other = tmp_path / "other.der"
        other.write_bytes(stranger.certificate.dump())
        untrusted = mediation("seal", "verify", "sealed.pdf", "--cert", str(other))
        assert untrusted.returncode == 1
        assert json.loads(untrusted.stdout)["intact"] is True


def test_a_document_is_sealed_by_the_committee_that_issues_it_else_by_the_installation(rendered, key, tmp_path):
    # the key whose certificate names the committee; a committee without its own seals with the installation's
    from documents.seal import common_name, sealer_for_committees

    own = SealKey.load(*generate_committee_key("上海市徐汇区医疗纠纷人民调解委员会", tmp_path / "xuhui"))
    seal = sealer_for_committees(key, [own])
    by_xuhui = verify_pdf(seal(rendered, reason="受理通知书", location="上海市", name=common_name(own.certificate)),
                          trusted=[own.certificate])
    assert by_xuhui.valid and "徐汇区" in (by_xuhui.signer or "")
    by_installation = verify_pdf(seal(rendered, reason="受理通知书", location="上海市", name="另一个委员会"),
                                 trusted=[key.certificate])
    assert by_installation.valid
    with pytest.raises(SealKeyError):
        sealer_for_committees(None, [own])(rendered, reason="受理通知书", location="上海市", name="另一个委员会")
