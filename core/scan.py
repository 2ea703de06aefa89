"""Scanning an upload for malware before it is stored: a pluggable `Scanner`, and `Clamd`, which speaks clamd's
INSTREAM protocol (ClamAV's daemon) over TCP or a unix socket when MEDIATION_CLAMAV_ADDRESS is set.

INSTREAM: the client sends `zINSTREAM\\0`, then the file as chunks, each preceded by its length as four bytes
(network order), then a chunk of length zero; clamd answers one line ending in NUL: `stream: OK`, or
`stream: <signature> FOUND`, or `<reason> ERROR` (e.g. the file is past clamd's StreamMaxLength).

A scanner that cannot be reached, or that answers an error, refuses the upload (503): a file is never stored
unscanned where scanning is configured.
"""

from __future__ import annotations

import socket
import struct
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from core.errors import DomainError, Unavailable
from core.settings import Settings

CHUNK = 64 * 1024


@dataclass(frozen=True)
class ScanResult:
    clean: bool
    signature: str = ""  # what was found, when not clean


Scanner = Callable[[Path], ScanResult]


class ScanUnavailable(Unavailable):
    code = "scan_unavailable"

    def __init__(self, detail: str, *, retry_after: int = 30) -> None:
        super().__init__(detail, retry_after=retry_after)
        self.headers = {"Retry-After": str(retry_after)}


class Infected(DomainError):
    """The scanner found malware in the upload: it was not stored."""

    status_code = 422
    code = "malware_found"


class Clamd:
    """clamd at `address`: "host:port" (or tcp://host:port), or the path of its unix socket (or unix:///path)."""

    def __init__(self, address: str, *, timeout: float = 60.0) -> None:
        self.address = address.strip()
        self.timeout = timeout

    def _connect(self) -> socket.socket:
        address = self.address
        if address.startswith("unix://"):
            address = address.removeprefix("unix://")
        if address.startswith("/"):
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            sock.settimeout(self.timeout)
            sock.connect(address)
            return sock
        host, _, port = address.removeprefix("tcp://").rpartition(":")
        return socket.create_connection((host.strip("[]") or "127.0.0.1", int(port)), timeout=self.timeout)

    def __call__(self, path: Path) -> ScanResult:
        try:
            with self._connect() as sock, open(path, "rb") as handle:
                try:
                    sock.sendall(b"zINSTREAM\0")
                    while chunk := handle.read(CHUNK):
                        sock.sendall(struct.pack("!L", len(chunk)) + chunk)
                    sock.sendall(struct.pack("!L", 0))
                except OSError:
                    # clamd answers and closes the stream past its StreamMaxLength ("INSTREAM size limit
                    # exceeded"): what it said before closing is the reason, not the broken pipe
                    reply = _read_reply(sock, quietly=True)
                    if not reply:
                        raise
                    return parse_reply(reply, self.address)
                reply = _read_reply(sock)
        except (OSError, ValueError) as err:
            raise ScanUnavailable(f"the malware scanner at {self.address} cannot be reached "
                                  f"({type(err).__name__}); the file was not stored") from err
        return parse_reply(reply, self.address)


def _read_reply(sock: socket.socket, *, quietly: bool = False) -> str:
    """clamd's answer, up to its NUL; with `quietly`, whatever could still be read from a broken connection."""
    data = b""
    while not data.endswith(b"\0"):
        try:
            part = sock.recv(4096)
        except OSError:
            if not quietly:
                raise
            break
        if not part:
            break
        data += part
        if len(data) > 64 * 1024:
            break
    return data.rstrip(b"\0").decode("utf-8", "replace").strip()


def parse_reply(reply: str, address: str = "clamd") -> ScanResult:
    if reply.endswith(" OK"):
        return ScanResult(clean=True)
    if reply.endswith(" FOUND"):
        signature = reply.removesuffix(" FOUND").split(":", 1)[-1].strip()
        return ScanResult(clean=False, signature=signature)
    raise ScanUnavailable(f"the malware scanner at {address} could not scan the file ({reply or 'no answer'}); "
                          "the file was not stored")


def scanner_of(settings: Settings) -> Scanner | None:
    """clamd when MEDIATION_CLAMAV_ADDRESS is set; otherwise no scan."""
    if not settings.clamav_address.strip():
        return None
    return Clamd(settings.clamav_address, timeout=settings.clamav_timeout_seconds)
