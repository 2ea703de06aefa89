"""The attachments' stores (core/blobstore.py): the filesystem store and the S3 store (against moto's S3 server
on this machine, standing in for MinIO) keep bytes by their SHA-256, once, and give them back in chunks."""

from __future__ import annotations

import hashlib
import os
import socket
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from core.blobstore import BlobStore, FileStore, S3Store, StoreUnavailable, store_of
from core.settings import Settings


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    from moto.server import ThreadedMotoServer

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


@pytest.fixture(params=["fs", "s3"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> BlobStore:
    if request.param == "fs":
        return FileStore(tmp_path / "attachments")
    return S3Store(bucket=f"test-{uuid.uuid4().hex[:10]}", endpoint_url=request.getfixturevalue("s3_endpoint"),
                   access_key="testing", secret_key="testing")


def staged(store: BlobStore, data: bytes) -> tuple[str, Path]:
    path = store.staging_dir() / f"upload-{uuid.uuid4().hex}"
    path.write_bytes(data)
    return hashlib.sha256(data).hexdigest(), path


class TestAStore:
    def test_bytes_go_in_by_their_digest_and_come_back_in_chunks(self, store):
        data = os.urandom(9 * 1024 * 1024 + 17)  # past one S3 part: a multipart upload
        digest, path = staged(store, data)
        assert not store.exists(digest)
        assert store.put(digest, path) is True
        assert not path.exists()  # the staged copy is consumed
        assert store.exists(digest)
        chunks = list(store.chunks(digest, 64 * 1024))
        assert max(len(c) for c in chunks) <= 64 * 1024 and b"".join(chunks) == data
        assert store.read(digest) == data

    def test_the_same_bytes_are_kept_once(self, store):
        data = os.urandom(1000)
        digest, first = staged(store, data)
        assert store.put(digest, first) is True
        _, second = staged(store, data)
        assert store.put(digest, second) is False and not second.exists()
        assert store.read(digest) == data

    def test_bytes_it_does_not_hold_are_a_503_not_a_crash(self, store):
        missing = hashlib.sha256(b"never stored").hexdigest()
        with pytest.raises(StoreUnavailable):
            b"".join(store.chunks(missing))

    def test_a_deleted_digest_is_gone(self, store):
        digest, path = staged(store, b"%PDF-1.7 delete me")
        store.put(digest, path)
        store.delete(digest)
        assert not store.exists(digest)

    def test_a_digest_must_be_one(self, store):
        with pytest.raises(ValueError):
            store.exists("../../etc/passwd")


def test_the_filesystem_store_fans_out_and_never_leaves_half_a_file(tmp_path):
    store = FileStore(tmp_path)
    digest, path = staged(store, b"abc")
    store.put(digest, path)
    assert store.path_of(digest) == tmp_path / digest[:2] / digest[2:4] / digest
    assert list((tmp_path / "tmp").iterdir()) == []  # the staging folder is empty once stored


def test_the_settings_choose_the_store(tmp_path):
    assert isinstance(store_of(Settings(data_dir=tmp_path)), FileStore)
    assert store_of(Settings(data_dir=tmp_path)).root == tmp_path / "attachments"
    s3 = store_of(Settings(attachment_store="s3", s3_endpoint_url="http://127.0.0.1:9", s3_bucket="b"))
    assert isinstance(s3, S3Store) and s3.bucket == "b"


def test_an_unreachable_object_store_is_a_503(tmp_path):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    store = S3Store(bucket="b", endpoint_url=f"http://127.0.0.1:{port}", access_key="k", secret_key="s")
    with pytest.raises(StoreUnavailable):
        store.exists(hashlib.sha256(b"x").hexdigest())
