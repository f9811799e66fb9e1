"""Keeping keys out of what the CLI prints when things go wrong: tracebacks (`--debug`, an
exception escaping a thread), and log records (asyncio's "Task exception was never retrieved",
a library's warning). Exception messages can quote a server's reply, a header or a URL, so
everything is passed through `vvtui.redact.redact` on its way out."""

from __future__ import annotations

import contextlib
import logging
import sys
import threading
from collections.abc import Iterator
from typing import Any

from vvtui.redact import redact, redacted_traceback


def _excepthook(kind: type[BaseException], exc: BaseException, tb: Any) -> None:
    sys.stderr.write(redacted_traceback(exc))


def _thread_excepthook(args: threading.ExceptHookArgs) -> None:
    if args.exc_value is None or args.exc_type is SystemExit:
        return
    name = args.thread.name if args.thread is not None else "?"
    sys.stderr.write(f"Exception in thread {name}:\n{redacted_traceback(args.exc_value)}")


def _redacting_factory(factory: Any) -> Any:
    def make(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record: logging.LogRecord = factory(*args, **kwargs)
        # Render now, redacted, so no handler or formatter downstream sees the raw arguments.
        try:
            message = record.getMessage()
        except Exception:
            message = str(record.msg)
        record.msg, record.args = redact(message), None
        if record.exc_info and record.exc_info[1] is not None:
            record.exc_text = redacted_traceback(record.exc_info[1]).rstrip("\n")
            record.exc_info = None
        return record

    return make


@contextlib.contextmanager
def redacting_hooks() -> Iterator[None]:
    """While active: uncaught exceptions (main thread and others) and log records are redacted.
    Restores the previous hooks on exit, so calling `main()` from tests leaves no trace."""
    saved = (sys.excepthook, threading.excepthook, logging.getLogRecordFactory())
    sys.excepthook = _excepthook
    threading.excepthook = _thread_excepthook
    logging.setLogRecordFactory(_redacting_factory(saved[2]))
    try:
        yield
    finally:
        sys.excepthook, threading.excepthook = saved[0], saved[1]
        logging.setLogRecordFactory(saved[2])
