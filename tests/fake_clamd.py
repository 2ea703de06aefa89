"""A small stand-in for clamd (ClamAV's daemon cannot be installed here) that speaks its INSTREAM protocol over TCP
or a unix socket: it reads the length-prefixed chunks up to the empty one and answers `stream: OK`, or
`stream: Eicar-Test-Signature FOUND` when the EICAR test string is in the bytes, or an `ERROR` past its own stream
limit, each ending in NUL as clamd's z-commands do. It records what it was sent, so a test can check the file
reached it whole."""

from __future__ import annotations

import socketserver
import struct
import threading
from pathlib import Path

# The EICAR anti-virus test file (harmless by design: every scanner reports it).
EICAR = rb"X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"


class _Handler(socketserver.BaseRequestHandler):
    def _exactly(self, n: int) -> bytes:
        data = b""
        while len(data) < n:
            part = self.request.recv(n - len(data))
            if not part:
                raise ConnectionError("the client went away")
            data += part
        return data

    def handle(self) -> None:
        server: _Server = self.server  # type: ignore[assignment]
        command = b""
        while not command.endswith(b"\0"):
            part = self.request.recv(1)
            if not part:
                return
            command += part
        if command != b"zINSTREAM\0":
            self.request.sendall(b"UNKNOWN COMMAND\0")
            return
        received = bytearray()
        while True:
            (length,) = struct.unpack("!L", self._exactly(4))
            if length == 0:
                break
            received += self._exactly(length)
            if len(received) > server.stream_max:
                self.request.sendall(b"INSTREAM size limit exceeded. ERROR\0")
                return
        server.scanned.append(bytes(received))
        if EICAR in received:
            self.request.sendall(b"stream: Eicar-Test-Signature FOUND\0")
        else:
            self.request.sendall(b"stream: OK\0")


class _Server(socketserver.ThreadingMixIn):
    daemon_threads = True
    stream_max = 25 * 1024 * 1024
    scanned: list[bytes]


class _TCP(_Server, socketserver.TCPServer):
    allow_reuse_address = True


class _Unix(_Server, socketserver.UnixStreamServer):
    pass


class FakeClamd:
    """`with FakeClamd() as clamd:` clamd.address is "127.0.0.1:<port>"; `FakeClamd(unix=path)` listens on a unix
    socket instead."""

    def __init__(self, *, unix: Path | None = None, stream_max: int = 25 * 1024 * 1024) -> None:
        self.server: _Server = _Unix(str(unix), _Handler) if unix else _TCP(("127.0.0.1", 0), _Handler)
        self.server.scanned = []
        self.server.stream_max = stream_max
        self.address = str(unix) if unix else f"127.0.0.1:{self.server.server_address[1]}"  # type: ignore[attr-defined]
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)  # type: ignore[attr-defined]

    @property
    def scanned(self) -> list[bytes]:
        return self.server.scanned

    def __enter__(self) -> FakeClamd:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.server.shutdown()  # type: ignore[attr-defined]
        self.server.server_close()  # type: ignore[attr-defined]
        self._thread.join(timeout=5)
