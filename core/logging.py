"""Logging set-up shared by the API, the worker and the CLI."""

from __future__ import annotations

import logging


def configure(level: str = "INFO") -> None:
    logging.basicConfig(
        level=level.upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    for noisy in ("weasyprint", "fontTools"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    logging.getLogger("temporalio").setLevel(max(logging.WARNING, logging.getLevelName(level.upper())))
