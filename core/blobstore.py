"""Where the attachments' bytes live, by their SHA-256 (content-addressed: the same bytes are stored once, however
many attachments name them). Two stores behind one interface, chosen by MEDIATION_ATTACHMENT_STORE:

- `FileStore` ("fs", the embedded stack): files under data_dir/attachments, fanned out by the digest's first two
  byte pairs (`ab/cd/abcd…`). A file is staged in the store's own `tmp/` folder, then renamed into place: a
  reader never sees half a file, and a crash leaves only a stray file in `tmp/`.
- `S3Store` ("s3", production): an S3-compatible object store (MinIO in docker-compose) through boto3, the keys
  `sha256/ab/cd/abcd…`. Uploads go in parts (a few MiB each, two at a time), downloads are read a chunk at a time
  from the object's body: no whole file is held in memory.

Every method blocks (file or network I/O): the API calls them in its thread pool. Nothing here knows cases.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
import threading
from abc import ABC, abstractmethod
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from core.errors import Unavailable
from core.settings import Settings

CHUNK = 64 * 1024
S3_PART = 8 * 1024 * 1024  # S3's parts are at least 5 MiB; two in flight at most


class StoreUnavailable(Unavailable):
    """The attachments' store cannot be reached, or does not hold bytes it should: nothing was stored or served."""

    code = "attachment_store_unavailable"

    def __init__(self, detail: str, *, retry_after: int = 5) -> None:
        super().__init__(detail, retry_after=retry_after)
        self.headers = {"Retry-After": str(retry_after)}


def _check_digest(sha256: str) -> str:
    if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
        raise ValueError(f"not a SHA-256 in lower-case hex: {sha256!r}")
    return sha256


class BlobStore(ABC):
    kind: str

    @abstractmethod
    def staging_dir(self) -> Path:
        """Where an upload is written while it is hashed (for the file store, on the store's own file system)."""

    @abstractmethod
    def put(self, sha256: str, staged: Path) -> bool:
        """Store the staged file under its digest, and consume it (it no longer exists afterwards). True when the
        bytes were new; False when the store already held them (the staged copy is dropped)."""

    @abstractmethod
    def exists(self, sha256: str) -> bool: ...

    @abstractmethod
    def chunks(self, sha256: str, chunk_size: int = CHUNK) -> Iterator[bytes]:
        """The stored bytes, a chunk at a time."""

    def read(self, sha256: str) -> bytes:
        """The stored bytes whole (the 卷宗 embeds them)."""
        return b"".join(self.chunks(sha256, 1024 * 1024))

    @abstractmethod
    def delete(self, sha256: str) -> None:
        """Remove the bytes (once no attachment that names them is kept any longer)."""


class FileStore(BlobStore):
    kind = "fs"

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def path_of(self, sha256: str) -> Path:
        _check_digest(sha256)
        return self.root / sha256[:2] / sha256[2:4] / sha256

    def staging_dir(self) -> Path:
        folder = self.root / "tmp"
        folder.mkdir(parents=True, exist_ok=True)
        return folder

    def put(self, sha256: str, staged: Path) -> bool:
        target = self.path_of(sha256)
        try:
            if target.exists():
                return False
            target.parent.mkdir(parents=True, exist_ok=True)
            with open(staged, "rb") as handle:
                os.fsync(handle.fileno())
            os.chmod(staged, 0o440)  # stored files are never written again
            os.replace(staged, target)  # atomic on one file system: a reader sees the whole file or none
            return True
        except OSError as err:
            raise StoreUnavailable(f"the attachments' folder cannot be written ({type(err).__name__})") from err
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(staged)

    def exists(self, sha256: str) -> bool:
        return self.path_of(sha256).is_file()

    def chunks(self, sha256: str, chunk_size: int = CHUNK) -> Iterator[bytes]:
        try:
            handle = open(self.path_of(sha256), "rb")  # noqa: SIM115 - closed by the generator
        except FileNotFoundError:
            raise StoreUnavailable(f"the attachments' folder does not hold {sha256}", retry_after=60) from None
        return _chunks_of(handle, chunk_size)

    def delete(self, sha256: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.path_of(sha256).unlink()


def _chunks_of(handle: Any, chunk_size: int) -> Iterator[bytes]:
    with handle:
        while chunk := handle.read(chunk_size):
            yield chunk


class S3Store(BlobStore):
    kind = "s3"

    def __init__(self, *, bucket: str, endpoint_url: str | None = None, access_key: str | None = None,
                 secret_key: str | None = None, region: str = "us-east-1", prefix: str = "sha256/") -> None:
        import boto3
        from boto3.s3.transfer import TransferConfig
        from botocore.config import Config

        self.bucket = bucket
        self.prefix = prefix
        self._client = boto3.client(
            "s3", endpoint_url=endpoint_url or None, aws_access_key_id=access_key or None,
            aws_secret_access_key=secret_key or None, region_name=region,
            config=Config(signature_version="s3v4", s3={"addressing_style": "path"},
                          retries={"max_attempts": 3, "mode": "standard"}, connect_timeout=10, read_timeout=60),
        )
        self._transfer = TransferConfig(multipart_threshold=S3_PART, multipart_chunksize=S3_PART, max_concurrency=2,
                                        io_chunksize=CHUNK)
        self._bucket_ready = False
        self._lock = threading.Lock()

    def key_of(self, sha256: str) -> str:
        _check_digest(sha256)
        return f"{self.prefix}{sha256[:2]}/{sha256[2:4]}/{sha256}"

    def _errors(self) -> tuple[type[BaseException], ...]:
        from botocore.exceptions import BotoCoreError, ClientError

        return BotoCoreError, ClientError

    def ensure_bucket(self) -> None:
        """The bucket exists (made on first use when it does not)."""
        if self._bucket_ready:
            return
        with self._lock:
            if self._bucket_ready:
                return
            try:
                try:
                    self._client.head_bucket(Bucket=self.bucket)
                except self._errors()[1] as err:
                    if _status(err) not in (404, 400) and _code(err) not in ("404", "NoSuchBucket"):
                        raise
                    self._client.create_bucket(Bucket=self.bucket)
            except self._errors() as err:
                raise StoreUnavailable(f"the object store's bucket {self.bucket!r} cannot be reached or made "
                                       f"({type(err).__name__})") from err
            self._bucket_ready = True

    def staging_dir(self) -> Path:
        return Path(tempfile.gettempdir())

    def put(self, sha256: str, staged: Path) -> bool:
        try:
            self.ensure_bucket()
            if self.exists(sha256):
                return False
            self._client.upload_file(str(staged), self.bucket, self.key_of(sha256), Config=self._transfer,
                                     ExtraArgs={"Metadata": {"sha256": sha256},
                                                "ContentType": "application/octet-stream"})
            return True
        except self._errors() as err:
            raise StoreUnavailable(f"the object store refused the file ({type(err).__name__})") from err
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(staged)

    def exists(self, sha256: str) -> bool:
        self.ensure_bucket()
        try:
            self._client.head_object(Bucket=self.bucket, Key=self.key_of(sha256))
            return True
        except self._errors()[1] as err:
            if _status(err) == 404 or _code(err) in ("404", "NoSuchKey", "NotFound"):
                return False
            raise StoreUnavailable(f"the object store cannot be read ({_code(err)})") from err
        except self._errors()[0] as err:
            raise StoreUnavailable(f"the object store cannot be reached ({type(err).__name__})") from err

    def chunks(self, sha256: str, chunk_size: int = CHUNK) -> Iterator[bytes]:
        self.ensure_bucket()
        try:
            body = self._client.get_object(Bucket=self.bucket, Key=self.key_of(sha256))["Body"]
        except self._errors() as err:
            raise StoreUnavailable(f"the object store does not serve {sha256} ({type(err).__name__})") from err
        return _body_chunks(body, chunk_size)

    def delete(self, sha256: str) -> None:
        try:
            self._client.delete_object(Bucket=self.bucket, Key=self.key_of(sha256))
        except self._errors() as err:
            raise StoreUnavailable(f"the object store cannot delete {sha256} ({type(err).__name__})") from err


def _body_chunks(body: Any, chunk_size: int) -> Iterator[bytes]:
    try:
        yield from body.iter_chunks(chunk_size)
    finally:
        body.close()


def _status(err: Any) -> int | None:
    return (getattr(err, "response", None) or {}).get("ResponseMetadata", {}).get("HTTPStatusCode")


def _code(err: Any) -> str:
    return str((getattr(err, "response", None) or {}).get("Error", {}).get("Code", ""))


def store_of(settings: Settings) -> BlobStore:
    """The store the settings name."""
    if settings.attachment_store == "s3":
        return S3Store(bucket=settings.s3_bucket, endpoint_url=settings.s3_endpoint_url or None,
                       access_key=settings.s3_access_key or None, secret_key=settings.s3_secret_key or None,
                       region=settings.s3_region)
    return FileStore(settings.attachments_dir)


def copy_into(source: Any, target: Path, chunk_size: int = CHUNK) -> None:
    """Copy a readable file object into `target` a chunk at a time."""
    with open(target, "wb") as out:
        shutil.copyfileobj(source, out, chunk_size)
