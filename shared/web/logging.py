"""Structured JSON logs (structlog), one line per event, with the request id bound per request.

Nothing here renders exceptions or tracebacks: an exception's message can carry a submitted
value (principle 5), so failures are logged by kind and code location only.
"""

from __future__ import annotations

import logging
import sys
import threading
from typing import Any

import orjson
import structlog
from structlog.typing import EventDict, WrappedLogger

_LEVELS = {
    "debug": logging.DEBUG,
    "info": logging.INFO,
    "warning": logging.WARNING,
    "error": logging.ERROR,
}
_lock = threading.Lock()


class _StdoutLogger:
    """Writes to whatever ``sys.stdout`` is at the time of the call (so test capture works and a
    redirected stdout is honoured)."""

    def msg(self, message: str) -> None:
        with _lock:
            sys.stdout.write(message + "\n")
            sys.stdout.flush()

    debug = info = warning = warn = error = critical = exception = fatal = log = msg


def _stdout_logger_factory(*_args: Any) -> _StdoutLogger:
    return _StdoutLogger()


def _drop_exception_details(_logger: WrappedLogger, _name: str, event: EventDict) -> EventDict:
    # A traceback or exception text may quote a submitted value: never let one into a line.
    for key in ("exc_info", "exception", "stack", "stack_info"):
        event.pop(key, None)
    return event


def _render(_logger: WrappedLogger, _name: str, event: EventDict) -> str:
    return orjson.dumps(event, default=str).decode()


def configure_logging(level: str = "info") -> None:
    """Configure structlog and route the standard library's loggers (uvicorn's) through the same
    JSON renderer. Safe to call more than once; the last level wins."""
    numeric = _LEVELS.get(level, logging.INFO)
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True, key="ts"),
        _drop_exception_details,
    ]
    structlog.configure(
        processors=[*shared, _render],
        logger_factory=_stdout_logger_factory,
        wrapper_class=structlog.make_filtering_bound_logger(numeric),
        cache_logger_on_first_use=False,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[structlog.stdlib.add_logger_name, *shared],
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, _render],
    )
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(formatter)
    handler.set_name("ledger-json")
    root = logging.getLogger()
    root.handlers = [h for h in root.handlers if h.get_name() != "ledger-json"]
    root.addHandler(handler)
    root.setLevel(numeric)
    for name in ("uvicorn", "uvicorn.error"):
        # uvicorn installs its own text handlers; ours replace them.
        logging.getLogger(name).handlers = []
        logging.getLogger(name).propagate = True
    # Client libraries log full URLs (query strings included) at INFO.
    for name in ("httpx", "httpcore"):
        logging.getLogger(name).setLevel(max(numeric, logging.WARNING))
    # The access log prints raw paths and query strings (submitted values): the request
    # middleware logs route templates instead.
    logging.getLogger("uvicorn.access").disabled = True


def get_logger(name: str = "ledger.web") -> Any:
    return structlog.get_logger(name)
