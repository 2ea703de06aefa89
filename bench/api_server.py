"""uvicorn for the benches that run the API in several worker processes (`uvicorn --workers N`), with its listening
socket made a TCP socket in Python's eyes.

uvicorn (0.54) creates that socket as `socket.socket(family)`, protocol 0, so the connections it accepts are not
known as TCP and asyncio does not set TCP_NODELAY on them: an answer written in two parts waits for the client's
delayed acknowledgement, about 40 ms on every request (GET /health: 45 ms instead of 1 ms). A single `mediation
api` process listens through asyncio itself and is not affected.

    python -m bench.api_server api.main:create_app --factory --workers 2 ...   (uvicorn's own options)
"""

from __future__ import annotations

import socket
import sys

import uvicorn
from uvicorn.config import Config

_bind_socket = Config.bind_socket


def bind_socket(self: Config) -> socket.socket:
    sock = _bind_socket(self)
    if sock.family in (socket.AF_INET, socket.AF_INET6) and sock.proto == 0:
        sock = socket.socket(sock.family, sock.type, socket.IPPROTO_TCP, fileno=sock.detach())
        sock.set_inheritable(True)
    return sock


Config.bind_socket = bind_socket  # type: ignore[method-assign]

if __name__ == "__main__":
    sys.exit(uvicorn.main())
