"""Seals a generated PDF with the committee's certificate (PAdES) and verifies a sealed PDF.

`seal_pdf` adds a PAdES baseline B-B signature as an incremental update: the bytes render.py wrote (PDF/A-3b)
stay as they are, and the seal is a certification signature that allows no later change (DocMDP level 1),
because a generated document is never edited (a correction is a new version); only what PAdES allows after
any seal (validation data, document timestamps, metadata) keeps it valid, and the report says so.
As PDF/A asks, the invisible signature widget is printable, and pyHanko updates the existing XMP packet (the
document information's /Producer is made equal to it). No timestamp server is reachable from a committee's
network, so the signing time is the one the signer states (B-B), not a B-T timestamp.

`verify_pdf` answers what an auditor asks of a stored document: is it sealed, were the sealed bytes left
as they were (`intact`), and does the seal chain to a certificate the auditor trusts (`valid`).

`SealKey` is the committee's private key and certificate chain, read from PEM files; for the embedded stack
`generate_committee_key` makes a self-signed certificate (a real committee configures its own by path).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import dataclasses
import io
import logging
import os
from collections.abc import Coroutine, Iterable
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any, Protocol, TypeVar

from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.padding import PKCS1v15
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes
from cryptography.x509.oid import NameOID
from pyhanko.keys import load_certs_from_pemder_data, load_private_key_from_pemder_data
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.metadata.model import VENDOR
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import fields, signers
from pyhanko.sign.validation import async_validate_pdf_signature
from pyhanko.sign.validation.status import PdfSignatureStatus, SignatureCoverageLevel
from pyhanko_certvalidator import ValidationContext
from pyhanko_certvalidator.registry import SimpleCertificateStore
from pyhanko_certvalidator.util import get_pyca_cryptography_hash

FIELD_NAME = "CommitteeSeal"
KEY_FILE = "seal-key.pem"
CERT_FILE = "seal-cert.pem"
VALID_YEARS = 10
NO_TRUSTED_CERTIFICATE = "no trusted certificate is configured"

Certificate = asn1_x509.Certificate | x509.Certificate | bytes  # bytes: PEM or DER
T = TypeVar("T")
# pyHanko logs each certificate that does not chain to a trusted one as a warning with its traceback; the
# report names the problem, so only its errors reach the log.
logging.getLogger("pyhanko.sign.validation.generic_cms").setLevel(logging.ERROR)


class SealKeyError(ValueError):
    """The key or the certificate cannot be used: missing or unreadable file, wrong passphrase, a key that is
    not the certificate's."""


class Sealer(Protocol):
    """What the activities call to seal a rendered document (`sealer_for(key)` makes one)."""

    def __call__(self, data: bytes, *, reason: str, location: str, name: str) -> bytes: ...


# --- The key ------------------------------------------------------------------------------------


def _read(path: Path, what: str) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as err:
        raise SealKeyError(f"cannot read the seal {what} {path}: {err.strerror or err}") from err


class _LoadedKeySigner(signers.SimpleSigner):
    """pyHanko's SimpleSigner parses (and, for RSA, re-validates) its private key at every signature, twice
    per document (once to size the signature): 160 ms each for RSA-3072. This one keeps the parsed key."""

    def __init__(self, *, private_key: PrivateKeyTypes, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._private_key = private_key

    def sign_raw(self, data: bytes, digest_algorithm: str) -> bytes:
        algorithm = self.get_signature_mechanism_for_digest(digest_algorithm).signature_algo
        key = self._private_key
        if algorithm == "rsassa_pkcs1v15" and isinstance(key, rsa.RSAPrivateKey):
            return key.sign(data, PKCS1v15(), get_pyca_cryptography_hash(digest_algorithm))
        if algorithm == "ecdsa" and isinstance(key, ec.EllipticCurvePrivateKey):
            return key.sign(data, ec.ECDSA(get_pyca_cryptography_hash(digest_algorithm)))
        return super().sign_raw(data, digest_algorithm)  # other mechanisms: pyHanko's own way


@dataclasses.dataclass(frozen=True)
class SealKey:
    """The committee's signing key and its certificate chain (the signer's certificate first)."""

    signer: signers.SimpleSigner
    chain: tuple[asn1_x509.Certificate, ...]

    @classmethod
    def load(
        cls, key_path: Path | str, cert_path: Path | str, passphrase: str | bytes | None = None
    ) -> SealKey:
        """Reads a PEM (or DER) private key and a PEM file of certificates: the signer's, then its issuers'
        (raises SealKeyError)."""
        chain = tuple(load_certs_from_pemder_data(_read(Path(cert_path), "certificate")))
        if not chain:
            raise SealKeyError(f"no certificate in {cert_path}")
        secret = (passphrase.encode("utf-8") if isinstance(passphrase, str) else passphrase) or None
        key_bytes = _read(Path(key_path), "key")
        pem = b"-----BEGIN" in key_bytes
        load = serialization.load_pem_private_key if pem else serialization.load_der_private_key
        try:
            private_key = load(key_bytes, password=secret)
            key_info = load_private_key_from_pemder_data(key_bytes, passphrase=secret)
        except (ValueError, TypeError) as err:  # a wrong, missing or needless passphrase; not a key
            raise SealKeyError(f"cannot load the seal key {key_path}: {err}") from err
        spki = serialization.PublicFormat.SubjectPublicKeyInfo
        public = private_key.public_key().public_bytes(serialization.Encoding.DER, spki)
        if public != chain[0].public_key.dump():
            raise SealKeyError(f"the key {key_path} is not the key of the first certificate of {cert_path}")
        signer = _LoadedKeySigner(
            private_key=private_key, signing_cert=chain[0], signing_key=key_info,
            cert_registry=SimpleCertificateStore.from_certs(chain),
        )
        return cls(signer=signer, chain=chain)

    @property
    def certificate(self) -> asn1_x509.Certificate:
        return self.chain[0]

    @property
    def reserved_bytes(self) -> int:
        """Room for the signature in the PDF (hex digits): the certificates, the signature and the signed
        attributes, twice over. A fixed size spares pyHanko a trial signature to measure it."""
        return 2 * (sum(len(c.dump()) for c in self.chain) + 4096)

    @property
    def subject(self) -> str:
        return self.certificate.subject.human_friendly


def sealer_for(key: SealKey) -> Sealer:
    """The sealer the worker hands to the activities."""
    return partial(seal_pdf, key=key)


def common_name(certificate: asn1_x509.Certificate) -> str:
    return str(certificate.subject.native.get("common_name", ""))


def sealer_for_committees(default: SealKey | None, own: Iterable[SealKey] = ()) -> Sealer:
    """Seals each document with the key of the committee that issues it — the key whose certificate names it —
    else with the installation's key (`default`). SealKeyError when neither is there."""
    keys = {common_name(key.certificate): key for key in own}

    def seal(data: bytes, *, reason: str, location: str, name: str) -> bytes:
        key = keys.get(name, default)
        if key is None:
            raise SealKeyError(f"no seal key for {name}: run `mediation seal init --committee ID`")
        return seal_pdf(data, key=key, reason=reason, location=location, name=name)

    return seal


def load_certificates(path: Path | str) -> list[asn1_x509.Certificate]:
    """Every certificate of a PEM (or DER) file."""
    return list(load_certs_from_pemder_data(_read(Path(path), "certificate")))


def generate_committee_key(
    committee_name: str,
    out_dir: Path | str,
    *,
    key_path: Path | str | None = None,
    cert_path: Path | str | None = None,
    passphrase: str | None = None,
    key_size: int = 3072,
    now: datetime | None = None,
) -> tuple[Path, Path]:
    """A new RSA key and a self-signed CA-style certificate for it (CN = O = the committee, C = CN, valid ten
    years), written as PEM to `out_dir`/seal-key.pem (readable by the owner only) and `out_dir`/seal-cert.pem,
    or to the paths given. Returns (key path, certificate path). Existing files are replaced."""
    key_file = Path(key_path) if key_path else Path(out_dir) / KEY_FILE
    cert_file = Path(cert_path) if cert_path else Path(out_dir) / CERT_FILE
    private_key = rsa.generate_private_key(public_exponent=65537, key_size=key_size)
    name = x509.Name([
        x509.NameAttribute(NameOID.COUNTRY_NAME, "CN"),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, committee_name),
        x509.NameAttribute(NameOID.COMMON_NAME, committee_name),
    ])
    start = (now or datetime.now(UTC)).astimezone(UTC) - timedelta(hours=1)  # clock skew
    try:
        end = start.replace(year=start.year + VALID_YEARS)
    except ValueError:  # 29 February
        end = start.replace(year=start.year + VALID_YEARS, day=28)
    public_key = private_key.public_key()
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(end)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True, content_commitment=True, key_encipherment=False,
                data_encipherment=False, key_agreement=False, key_cert_sign=True, crl_sign=True,
                encipher_only=False, decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(public_key), critical=False)
        .sign(private_key, hashes.SHA256())
    )
    encryption: serialization.KeySerializationEncryption = (
        serialization.BestAvailableEncryption(passphrase.encode("utf-8"))
        if passphrase else serialization.NoEncryption()
    )
    key_pem = private_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption
    )
    key_file.parent.mkdir(parents=True, exist_ok=True)
    cert_file.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(key_pem)
    os.chmod(key_file, 0o600)  # also when the file was there before
    cert_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    return key_file, cert_file


# --- Sealing ------------------------------------------------------------------------------------


def _run(coroutine: Coroutine[Any, Any, T]) -> T:
    """Runs pyHanko's coroutine to the end, also when called from a thread whose event loop is running."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coroutine)
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


def _producer_as_in_xmp(writer: IncrementalPdfFileWriter) -> None:
    """pyHanko writes its own name as the XMP pdf:Producer but appends it to the document information's
    /Producer; PDF/A wants the two equal, so the information dictionary gets pyHanko's name alone (the
    revision render.py wrote still names WeasyPrint in both)."""
    info_ref = writer.trailer.raw_get("/Info") if "/Info" in writer.trailer else None
    if isinstance(info_ref, generic.IndirectObject):
        info = info_ref.get_object()
        info["/Producer"] = generic.TextStringObject(VENDOR)
        writer.mark_update(info_ref)


def seal_pdf(data: bytes, *, key: SealKey, reason: str, location: str, name: str) -> bytes:
    """The PDF with the committee's PAdES B-B seal appended as an incremental update (the bytes before it
    are `data`, unchanged)."""
    meta = signers.PdfSignatureMetadata(
        field_name=FIELD_NAME,
        reason=reason,
        location=location,
        name=name,
        md_algorithm="sha256",
        subfilter=fields.SigSeedSubFilter.PADES,
        certify=True,
        docmdp_permissions=fields.MDPPerm.NO_CHANGES,
    )
    writer = IncrementalPdfFileWriter(io.BytesIO(data), strict=False)
    _producer_as_in_xmp(writer)
    output = io.BytesIO()
    _run(signers.PdfSigner(meta, signer=key.signer).async_sign_pdf(
        writer, output=output, bytes_reserved=key.reserved_bytes
    ))
    return output.getvalue()


# --- Verification -------------------------------------------------------------------------------


@dataclasses.dataclass
class SealReport:
    """What the seal of a PDF says. `intact`: the sealed bytes were not modified (and the signature matches
    them); `valid`: intact, the signer chains to a trusted certificate, and nothing but what the seal allows
    was added after it."""

    signed: bool = False
    intact: bool = False
    valid: bool = False
    signer: str | None = None  # the signer's subject, e.g. "Common Name: ..., Organization: ..., Country: CN"
    signed_at: datetime | None = None  # as the signer states it (B-B: no timestamp authority)
    covers_whole_file: bool = False
    coverage: str | None = None  # ENTIRE_FILE, ENTIRE_REVISION, ...
    modification_level: str | None = None  # for a later revision: NONE, LTA_UPDATES, FORM_FILLING, ..., OTHER
    problems: list[str] = dataclasses.field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        out = dataclasses.asdict(self)
        out["signed_at"] = self.signed_at.isoformat() if self.signed_at else None
        return out


def _asn1_certificate(cert: Certificate) -> asn1_x509.Certificate:
    if isinstance(cert, asn1_x509.Certificate):
        return cert
    if isinstance(cert, x509.Certificate):
        return asn1_x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER))
    found = list(load_certs_from_pemder_data(cert))
    if len(found) != 1:
        raise ValueError(f"expected one certificate, found {len(found)}")
    return found[0]


def _status_report(status: PdfSignatureStatus, report: SealReport) -> None:
    report.signer = status.signing_cert.subject.human_friendly
    report.signed_at = status.signer_reported_dt
    report.coverage = status.coverage.name if status.coverage is not None else None
    report.covers_whole_file = status.coverage == SignatureCoverageLevel.ENTIRE_FILE
    level = status.modification_level
    report.modification_level = level.name if level is not None else None
    report.intact = bool(status.intact and status.valid)
    if not status.intact:
        report.problems.append("the signed bytes were modified (their digest does not match the seal)")
    elif not status.valid:
        report.problems.append("the seal's signature does not match its signed data")
    if report.intact and not status.trusted:
        indication = status.trust_problem_indic.name if status.trust_problem_indic is not None else "unknown"
        report.problems.append(
            f"the signer's certificate does not chain to a trusted certificate ({indication})"
        )
    if status.docmdp_ok is False:
        report.problems.append(
            f"the document was changed after it was sealed (modification level {report.modification_level})"
        )
    elif status.coverage != SignatureCoverageLevel.ENTIRE_FILE:
        report.problems.append(
            f"a revision was added after the seal, which the seal allows (modification level "
            f"{report.modification_level}): validation data, timestamps or metadata only"
        )
    report.valid = bool(report.intact and status.trusted and status.bottom_line)


def verify_pdf(data: bytes, *, trusted: Iterable[Certificate]) -> SealReport:
    """Checks the seal(s) of a PDF against the trusted certificates. Never raises for a bad document: what is
    wrong is listed in `problems`. With several signatures, the report is of the last one, and every problem
    of the earlier ones is listed."""
    report = SealReport()
    try:
        roots = [_asn1_certificate(c) for c in trusted]
    except (ValueError, TypeError) as err:
        report.problems.append(f"a trusted certificate cannot be read: {err}")
        roots = []
    if not roots:
        report.problems.append(NO_TRUSTED_CERTIFICATE)
    try:
        reader = PdfFileReader(io.BytesIO(data), strict=False)
        embedded = list(reader.embedded_signatures)
    except Exception as err:  # noqa: BLE001 - any parse failure means "not a readable PDF"
        report.problems.append(f"the file cannot be read as a PDF: {type(err).__name__}: {err}")
        return report
    if not embedded:
        report.problems.append("the document is not sealed")
        return report
    report.signed = True
    statuses: list[SealReport] = []
    for sig in embedded:
        one = SealReport(signed=True)
        context = ValidationContext(trust_roots=roots, allow_fetching=False, revocation_mode="soft-fail")
        try:
            _status_report(_run(async_validate_pdf_signature(sig, signer_validation_context=context)), one)
        except Exception as err:  # noqa: BLE001 - a damaged signature is a finding, not an error
            one = SealReport(signed=True, problems=[f"the seal cannot be checked: {type(err).__name__}: {err}"])
        statuses.append(one)
    last = statuses[-1]
    for n, earlier in enumerate(statuses[:-1], start=1):
        last.problems.extend(f"signature {n}: {problem}" for problem in earlier.problems)
        last.intact = last.intact and earlier.intact
        last.valid = last.valid and earlier.valid
    last.problems = report.problems + last.problems
    return last
