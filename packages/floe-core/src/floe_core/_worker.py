"""A floe worker process: ``python -m <module>``, spoken to in frames over its stdin/stdout.

floe moves work that would hold its process's GIL to workers of its own (DuckDB, the state
database). A request is ``(request_id, operation, arguments)``; the worker replies
``(request_id, ("ok", value))`` or ``(request_id, ("error", kind, message))``, in any order.
The worker runs in a session of its own (Ctrl-C or a SIGTERM to floe's process group is
floe's to handle) and exits when its stdin closes: when floe closes it, or when floe's process
ends in any way. Its log records reach floe's log at their own level; anything else it writes
to standard error is logged at debug level.
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import os
import pickle
import subprocess
import sys
import threading
from collections.abc import Callable
from typing import IO, Any

log = logging.getLogger(__name__)

#: The error kind of a request whose worker has exited (or could not start).
WORKER_EXITED = "WorkerExited"


class _Pending:
    __slots__ = ("done", "reply")

    def __init__(self) -> None:
        self.done = threading.Event()
        self.reply: tuple[Any, ...] = ()


class WorkerProcess:
    """A worker process, and the replies it owes; safe to use from many threads.

    ``error(kind, message)`` makes the exception a failed request raises; ``hint`` is added
    to the message when the process cannot be started.
    """

    def __init__(
        self,
        module: str,
        label: str,
        error: Callable[[str, str], Exception],
        *,
        hint: str = "",
    ) -> None:
        self.label = label
        self._error = error
        try:
            self._process = subprocess.Popen(
                [sys.executable, "-m", module],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                close_fds=True,
                start_new_session=True,
            )
        except OSError as exc:
            message = f"the {label} process could not be started ({exc})"
            raise error(WORKER_EXITED, f"{message}; {hint}" if hint else message) from None
        self.pid = self._process.pid
        self._lock = threading.Lock()
        self._pending: dict[int, _Pending] = {}
        self._ids = itertools.count(1)
        self._gone: str | None = None
        for target, name in ((self._read_replies, "replies"), (self._log_stderr, "stderr")):
            threading.Thread(target=target, name=f"floe-{label}-{name}", daemon=True).start()

    @property
    def alive(self) -> bool:
        """Whether the worker can still take requests."""
        return self._gone is None

    def call(self, operation: str, **arguments: Any) -> Any:
        """Run ``operation`` in the worker and return its value; raise its error."""
        pending = _Pending()
        self._send(operation, arguments, pending)
        pending.done.wait()
        if pending.reply[0] == "ok":
            return pending.reply[1]
        _, kind, message = pending.reply
        raise self._error(kind, message)

    def send(self, operation: str, **arguments: Any) -> None:
        """Start ``operation`` in the worker without waiting for (or reading) its reply."""
        self._send(operation, arguments, None)

    def close(self) -> None:
        """Close the worker's stdin, which ends it once its requests are answered."""
        with self._lock, contextlib.suppress(OSError):
            if self._process.stdin is not None:
                self._process.stdin.close()

    def _send(self, operation: str, arguments: dict[str, Any], pending: _Pending | None) -> None:
        with self._lock:
            if self._gone is not None:
                raise self._error(WORKER_EXITED, self._gone)
            request_id = next(self._ids)
            if pending is not None:
                self._pending[request_id] = pending
            try:
                assert self._process.stdin is not None
                write_frame(self._process.stdin, (request_id, operation, arguments))
            except (OSError, ValueError):
                self._pending.pop(request_id, None)
                self._gone = self._gone or f"the {self.label} process exited"
                raise self._error(WORKER_EXITED, self._gone) from None

    def _read_replies(self) -> None:
        assert self._process.stdout is not None
        while True:
            try:
                request_id, reply = read_frame(self._process.stdout)
            except (EOFError, OSError):
                break
            except Exception as exc:  # not a frame: the pipe cannot be trusted any more
                log.error("the %s's reply could not be read (%s); stopping it", self.label, exc)
                self._process.kill()
                break
            with self._lock:
                pending = self._pending.pop(request_id, None)
            if pending is not None:
                pending.reply = reply
                pending.done.set()
        status = self._process.wait()
        message = f"the {self.label} process exited (status {status})"
        with self._lock:
            self._gone = message
            orphans = list(self._pending.values())
            self._pending.clear()
            for pipe in (self._process.stdin, self._process.stdout):
                if pipe is not None:
                    with contextlib.suppress(OSError):
                        pipe.close()
        if status != 0:
            log.warning("%s", message)
        for pending in orphans:
            pending.reply = ("error", WORKER_EXITED, message)
            pending.done.set()

    def _log_stderr(self) -> None:
        """The worker's log records, logged here as they were there; any other output at
        debug level."""
        assert self._process.stderr is not None
        with self._process.stderr as lines:
            for line in lines:
                text = line.decode(errors="replace").rstrip()
                level, _, rest = text.partition(" ")
                logger, _, message = rest.partition(" ")
                if level.startswith(_RECORD) and level[len(_RECORD) :].isdigit():
                    logging.getLogger(logger).log(int(level[len(_RECORD) :]), "%s", message)
                else:
                    log.debug("%s %d: %s", self.label, self.pid, text)


#: How a worker's log record starts on its standard error: ``<prefix><level> <logger> ``.
_RECORD = "floe-log:"


def serving_pipes() -> tuple[IO[bytes], IO[bytes]]:
    """In the worker: its request and reply pipes. Nothing but frames may reach the reply
    pipe, so whatever else writes to standard output (Python, or a library's C code) goes to
    standard error from here on, as do the worker's log records."""
    replies = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    # Log records (INFO and up) go to floe, which logs them as its own (``_log_stderr``).
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter(_RECORD + "%(levelno)d %(name)s %(message)s"))
    logging.basicConfig(level=logging.INFO, handlers=[handler])
    return sys.stdin.buffer, replies


# Length-prefixed pickled frames, the workers' only format. Both ends are floe, the same
# version in the same environment, over a private pipe: pickle is safe here and carries
# floe's own values (and DuckDB's: ints, decimals, dates, strings) as they are.

_HEADER = 4


def write_frame(stream: IO[bytes], message: Any) -> None:
    """Send ``message`` as one frame and flush it."""
    payload = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    stream.write(len(payload).to_bytes(_HEADER, "big") + payload)
    stream.flush()


def read_frame(stream: IO[bytes]) -> Any:
    """The next frame's message; ``EOFError`` when the other end has closed the pipe."""
    length = int.from_bytes(_read_exactly(stream, _HEADER), "big")
    return pickle.loads(_read_exactly(stream, length))


def _read_exactly(stream: IO[bytes], size: int) -> bytes:
    chunks = []
    while size:
        chunk = stream.read(size)
        if not chunk:
            raise EOFError
        chunks.append(chunk)
        size -= len(chunk)
    return b"".join(chunks)
