"""clamd's INSTREAM protocol (core/scan.py) against a stand-in clamd over TCP and a unix socket: a clean file, the
EICAR test file found, clamd's own error and a clamd that is not there, each answered as the upload needs it."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest

from core.scan import Clamd, ScanUnavailable, parse_reply, scanner_of
from core.settings import Settings
from tests.fake_clamd import EICAR, FakeClamd


def a_file(tmp_path: Path, data: bytes) -> Path:
    path = tmp_path / "upload.bin"
    path.write_bytes(data)
    return path


class TestInstream:
    def test_a_clean_file_is_sent_whole_in_chunks_and_answered_ok(self, tmp_path):
        data = os.urandom(300_000)  # several 64 KiB chunks
        with FakeClamd() as clamd:
            result = Clamd(clamd.address)(a_file(tmp_path, data))
        assert result.clean and result.signature == ""
        assert clamd.scanned == [data]

    def test_the_eicar_test_file_is_found_and_named(self, tmp_path):
        with FakeClamd() as clamd:
            result = Clamd(f"tcp://{clamd.address}")(a_file(tmp_path, b"%PDF-1.7\n" + EICAR + b"\n"))
        assert not result.clean and result.signature == "Eicar-Test-Signature"

    def test_clamd_on_a_unix_socket(self, tmp_path):
        with FakeClamd(unix=tmp_path / "clamd.sock") as clamd:
            assert Clamd(clamd.address)(a_file(tmp_path, EICAR)).signature == "Eicar-Test-Signature"
            assert Clamd(f"unix://{clamd.address}")(a_file(tmp_path, b"clean")).clean

    def test_a_file_past_clamds_stream_limit_is_not_taken_for_clean(self, tmp_path):
        with FakeClamd(stream_max=100_000) as clamd, pytest.raises(ScanUnavailable) as refused:
            Clamd(clamd.address)(a_file(tmp_path, os.urandom(200_000)))
        assert "size limit exceeded" in refused.value.detail and refused.value.status_code == 503

    def test_a_clamd_that_is_not_there_refuses_the_upload(self, tmp_path):
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]  # nobody listens once it is closed
        with pytest.raises(ScanUnavailable) as refused:
            Clamd(f"127.0.0.1:{port}", timeout=2)(a_file(tmp_path, b"x"))
        assert "cannot be reached" in refused.value.detail


def test_replies_are_read_as_clamd_writes_them():
    assert parse_reply("stream: OK").clean
    assert parse_reply("stream: Win.Test.EICAR_HDB-1 FOUND").signature == "Win.Test.EICAR_HDB-1"
    with pytest.raises(ScanUnavailable):
        parse_reply("INSTREAM size limit exceeded. ERROR")
    with pytest.raises(ScanUnavailable):
        parse_reply("")


def test_no_address_no_scan():
    assert scanner_of(Settings(clamav_address="")) is None
    assert isinstance(scanner_of(Settings(clamav_address="127.0.0.1:3310")), Clamd)
