"""An attachment's upload and download through the API (docs/attachments.md): how much the API process's memory
grows while a 50 MB file goes in and comes back. The file is streamed: the multipart part spooled to disk past
1 MiB, copied to the store a chunk at a time while it is hashed, read back in chunks, so the growth should stay far
below the file's size (the target: under 20 MB). Prints one JSON line of figures, then a human line.

    python -m bench.upload                 (50 MB, the filesystem store)
    python -m bench.upload --size-mb 50 --store s3   (against moto's S3 server on this machine)

The API runs in a process of its own (uvicorn, dev mode, SQLite, a case inserted directly: no workflow is needed to
attach a file). Memory is the process's resident set from /proc: its peak (VmHWM) is reset after a warm-up upload
(/proc/<pid>/clear_refs), so the figure is the peak during the measured transfer minus the resident set before it.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx

MB = 1024 * 1024
HEADERS = {"X-Actor-Id": "bench", "X-Actor-Role": "mediator"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def memory(pid: int) -> dict[str, int]:
    """VmRSS and VmHWM of the process, in bytes."""
    found = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            found[key] = int(value.split()[0]) * 1024
    return found


def reset_peak(pid: int) -> bool:
    try:
        Path(f"/proc/{pid}/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def make_case(database_url: str) -> str:
    from core.db import make_engine, session_factory, transaction
    from models.repo import create_schema
    from models.seed import seed_committees
    from models.tables import Case

    engine = make_engine(database_url)
    create_schema(engine)
    case_id = "bench-upload"
    with transaction(session_factory(engine)) as session:
        seed_committees(session=session)
        session.add(Case(id=case_id, number="〔2026〕沪黄医调字第1号", committee_id="huangpu", status="in_mediation",
                         application_type="joint", patient_name="王小明", institution_name="上海市某区人民医院",
                         facts="术后感染", claim_amount=Decimal("1000.00"), requests="赔偿", registration={},
                         registered_at=datetime.now(UTC), updated_at=datetime.now(UTC)))
    engine.dispose()
    return case_id


def big_file(path: Path, size: int) -> str:
    """A file that is a PDF by its first bytes, `size` bytes long; its SHA-256."""
    digest = hashlib.sha256()
    with open(path, "wb") as out:
        left = size
        chunk = b"%PDF-1.7\n"
        while left > 0:
            chunk = chunk[:left]
            out.write(chunk)
            digest.update(chunk)
            left -= len(chunk)
            chunk = os.urandom(min(left, 4 * MB))
    return digest.hexdigest()


def upload(client: httpx.Client, case_id: str, path: Path) -> dict[str, Any]:
    with open(path, "rb") as handle:  # httpx streams a file object's multipart part in chunks
        response = client.post(f"/cases/{case_id}/attachments", headers=HEADERS,
                               files={"file": (path.name, handle, "application/pdf")},
                               data={"kind": "medical_record", "party": "patient", "received_on": "2026-11-20"})
    response.raise_for_status()
    return response.json()


def download(client: httpx.Client, attachment_id: str, headers: dict[str, str] = HEADERS) -> tuple[int, str]:
    digest, size = hashlib.sha256(), 0
    with client.stream("GET", f"/attachments/{attachment_id}/content", headers=headers) as response:
        response.raise_for_status()
        for chunk in response.iter_bytes(256 * 1024):
            digest.update(chunk)
            size += len(chunk)
    return size, digest.hexdigest()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mb", type=int, default=50)
    parser.add_argument("--store", choices=("fs", "s3"), default="fs")
    args = parser.parse_args(argv)
    size = args.size_mb * MB

    with tempfile.TemporaryDirectory(prefix="bench-upload-") as tmp:
        folder = Path(tmp)
        database_url = f"sqlite:///{folder / 'bench.db'}"
        case_id = make_case(database_url)
        path, warm = folder / "scan.pdf", folder / "warm.pdf"
        expected = big_file(path, size)
        big_file(warm, 2 * MB)
        port = free_port()
        env = {**os.environ, "MEDIATION_DATA_DIR": str(folder / "data"), "MEDIATION_DATABASE_URL": database_url,
               "MEDIATION_ATTACHMENT_MAX_BYTES": str(max(size + MB, 64 * MB)),
               "MEDIATION_ATTACHMENT_CASE_MAX_BYTES": str(4 * size + 16 * MB), "MEDIATION_LOG_LEVEL": "WARNING"}
        moto = None
        if args.store == "s3":
            from moto.server import ThreadedMotoServer

            moto_port = free_port()
            moto = ThreadedMotoServer(ip_address="127.0.0.1", port=moto_port, verbose=False)
            moto.start()
            env.update(MEDIATION_ATTACHMENT_STORE="s3", MEDIATION_S3_ENDPOINT_URL=f"http://127.0.0.1:{moto_port}",
                       MEDIATION_S3_BUCKET="bench", MEDIATION_S3_ACCESS_KEY="bench", MEDIATION_S3_SECRET_KEY="bench")
        api = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "api.main:create_app", "--factory", "--host", "127.0.0.1",
             "--port", str(port), "--log-level", "warning"], env=env)
        try:
            with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=300) as client:
                for _ in range(300):
                    try:
                        if client.get("/health").status_code == 200:
                            break
                    except httpx.TransportError:
                        pass
                    time.sleep(0.1)
                upload(client, case_id, warm)  # imports, the multipart parser, the store: loaded before measuring
                download(client, upload(client, case_id, warm)["id"])
                time.sleep(0.5)

                before = memory(api.pid)["VmRSS"]
                peak_reset = reset_peak(api.pid)
                started = time.perf_counter()
                made = upload(client, case_id, path)
                upload_seconds = time.perf_counter() - started
                after_upload = memory(api.pid)
                upload_growth = (after_upload["VmHWM"] if peak_reset else after_upload["VmRSS"]) - before

                before_download = memory(api.pid)["VmRSS"]
                reset_peak(api.pid)
                started = time.perf_counter()
                got, digest = download(client, made["id"])
                download_seconds = time.perf_counter() - started
                after_download = memory(api.pid)
                download_growth = (after_download["VmHWM"] if peak_reset else after_download["VmRSS"]) - before_download

                # An auditor's download is a logged read: the audit trail's middleware (api/audit.py) holds a
                # logged read's answer until its entry is committed, so this one is measured apart.
                before_audited = memory(api.pid)["VmRSS"]
                reset_peak(api.pid)
                audited, _ = download(client, made["id"], {"X-Actor-Id": "au", "X-Actor-Role": "auditor"})
                after_audited = memory(api.pid)
                audited_growth = (after_audited["VmHWM"] if peak_reset else after_audited["VmRSS"]) - before_audited
        finally:
            api.terminate()
            api.wait(timeout=30)
            if moto is not None:
                moto.stop()

    figures = {
        "bench": "upload",
        "store": args.store,
        "file_mb": args.size_mb,
        "upload_seconds": round(upload_seconds, 2),
        "upload_mb_per_s": round(args.size_mb / upload_seconds, 1),
        "upload_memory_growth_mb": round(upload_growth / MB, 1),
        "download_seconds": round(download_seconds, 2),
        "download_memory_growth_mb": round(download_growth / MB, 1),
        "auditor_download_memory_growth_mb": round(audited_growth / MB, 1),
        "peak_measured": "VmHWM" if peak_reset else "VmRSS after",
        "round_trip_intact": got == size == audited and digest == made["sha256"] == expected,
        "target_growth_mb": 20,
    }
    print(json.dumps(figures, ensure_ascii=False))
    print(f"{args.size_mb} MB attachment ({args.store}): upload {figures['upload_seconds']} s, API memory "
          f"+{figures['upload_memory_growth_mb']} MB; download {figures['download_seconds']} s, "
          f"+{figures['download_memory_growth_mb']} MB (an auditor's, logged: "
          f"+{figures['auditor_download_memory_growth_mb']} MB); bytes intact: {figures['round_trip_intact']}")
    return 0 if figures["round_trip_intact"] else 1


if __name__ == "__main__":
    sys.exit(main())
