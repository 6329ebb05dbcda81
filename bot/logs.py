"""Structured JSON logs with incident and request ids; every line goes through the redactor."""

from __future__ import annotations

import contextvars
import json
import logging
import sys
from datetime import UTC, datetime

from bot.redact import redact

request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)
incident_id: contextvars.ContextVar[int | None] = contextvars.ContextVar(
    "incident_id", default=None
)


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        out = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": redact(record.getMessage()),
        }
        if (rid := request_id.get()) is not None:
            out["request_id"] = rid
        if (iid := incident_id.get()) is not None:
            out["incident_id"] = iid
        if record.exc_info:
            out["error"] = redact(self.formatException(record.exc_info))
        return json.dumps(out, ensure_ascii=False)


class RedactingFormatter(logging.Formatter):
    """The human format (sandbox, development), redacted all the same."""

    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))


def configure(level: str, fmt: str) -> None:
    handler = logging.StreamHandler(sys.stderr)
    if fmt == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(RedactingFormatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for chatty in ("alembic", "apscheduler"):  # one line per plugin or tick is noise
        logging.getLogger(chatty).setLevel(max(logging.WARNING, root.level))
