"""Logging set-up shared by the API, the worker and the CLI: plain lines, or JSON objects (`log_format=json`)
that carry the request id and the case id of what was being done.

The API sets `REQUEST_ID` and `CASE_ID` for each request (api/observability.py); the worker adds a context
source that names the case of the activity running (workflows/worker.py). Every record gets both fields,
empty when unknown."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from contextvars import ContextVar
from datetime import UTC, datetime

REQUEST_ID: ContextVar[str] = ContextVar("request_id", default="")
CASE_ID: ContextVar[str] = ContextVar("case_id", default="")
# Functions that name the context of the running code ({"case_id": ...}), tried when the variables are empty.
CONTEXT_SOURCES: list[Callable[[], dict[str, str]]] = []


class ContextFilter(logging.Filter):
    """Adds `request_id` and `case_id` to every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        found = {"request_id": REQUEST_ID.get(), "case_id": CASE_ID.get()}
        if not found["case_id"]:
            for source in CONTEXT_SOURCES:
                try:
                    found.update({k: v for k, v in source().items() if v})
                except Exception:  # noqa: BLE001 - a context source never stops a log line
                    continue
        for key, value in found.items():
            if not getattr(record, key, ""):
                setattr(record, key, value)
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time (UTC), level, logger, message, request_id, case_id (and the exception)."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", ""),
            "case_id": getattr(record, "case_id", ""),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def handler(fmt: str = "text") -> logging.Handler:
    out = logging.StreamHandler()
    out.addFilter(ContextFilter())
    out.setFormatter(JsonFormatter() if fmt == "json" else logging.Formatter(
        "%(asctime)s %(levelname)s %(name)s: %(message)s"))
    return out


def configure(level: str = "INFO", fmt: str = "text") -> None:
    """Like logging.basicConfig: a process whose logging is already set up (a test runner) keeps it."""
    root = logging.getLogger()
    if not root.handlers:
        root.setLevel(level.upper())
        root.addHandler(handler(fmt))
    for noisy in ("weasyprint", "fontTools"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    logging.getLogger("temporalio").setLevel(max(logging.WARNING, logging.getLevelName(level.upper())))
