"""The mapping worker: a child process that maps pages of customers for a pull.

Run as ``python -m hub.engine.mapworker`` by :class:`hub.engine.mapping.PageMapper`,
which starts it for a big pull of a connector whose mapping is pure
(:attr:`hub.connector.Connector.pure_mapping`). It imports the connector and
the canonical model, nothing of the store, the CLI or the service: a plain
child process rather than ``multiprocessing``, whose spawned children import
the parent's main module (the whole CLI) first.

The two sides talk over the child's stdin and stdout in frames, each a
4-byte big-endian length and a pickle:

1. the parent sends ``(connector class, settings, connection, default region,
   stream)``; the child builds its connector and answers ``"ready"``, or the
   reason it could not;
2. then, per page, the parent sends the list of payloads and the child
   answers with one outcome per payload: a :class:`~hub.engine.mapped.CustomerJson`,
   another :class:`~hub.connector.SourceRecord`, or a
   :class:`~hub.engine.mapped.Refusal`;
3. the parent closes stdin; the child answers with what it used, ``(CPU
   seconds, peak RSS in MB)``, for the log, and exits.

Anything else going wrong in the child (a bug in a mapping) ends it quietly,
exit status 1: the parent then maps the page itself, where the same error
surfaces through the run's own logging, secrets masked, rather than as a raw
traceback here. Output a mapping prints goes to stderr, never into the frames.
"""

from __future__ import annotations

import os
import pickle
import resource
import struct
import sys
from pathlib import Path
from typing import IO, Any

from hub.connector import SourceRecord
from hub.engine.mapped import Mapped, Refusal, as_customer_json, map_one
from hub.model import Customer
from hub.normalize import forget_people

__all__ = ["HEADER", "READY", "frame"]

HEADER = struct.Struct(">I")
READY = "ready"


def frame(value: Any) -> bytes:
    """``value`` as one frame: its pickle's length, then the pickle."""
    body = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
    return HEADER.pack(len(body)) + body


def _read(source: IO[bytes]) -> Any:
    """The next frame's value; None at the end of input."""
    header = source.read(HEADER.size)
    if len(header) < HEADER.size:
        return None
    return pickle.loads(source.read(HEADER.unpack(header)[0]))


def _sendable(outcome: SourceRecord | Refusal) -> Mapped | Refusal:
    """A customer as JSON (a model costs more to send than to map again); anything else as is."""
    if isinstance(outcome, SourceRecord) and isinstance(outcome.record, Customer):
        return as_customer_json(outcome)
    return outcome


def main() -> None:
    source = sys.stdin.buffer
    sink = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())  # a mapping's prints go to stderr
    cls, settings, connection, default_region, stream = _read(source)
    try:
        connector = cls(settings, connection=connection, default_region=default_region)
    except Exception as exc:
        sink.write(frame(f"{type(exc).__name__}: {exc}"))
        sink.flush()
        return
    sink.write(frame(READY))
    sink.flush()
    try:
        while (raws := _read(source)) is not None:
            sink.write(frame([_sendable(map_one(connector, stream, raw)) for raw in raws]))
            sink.flush()
            forget_people()  # this pull's values do not come again here; keep memory flat
    except Exception:
        sys.exit(1)  # the parent maps the page again and reports what went wrong
    sink.write(frame(_usage()))
    sink.flush()


def _usage() -> tuple[float, float]:
    """CPU seconds and peak RSS (MB) of this process since it began.

    The peak is the kernel's high-water mark of this program's memory
    (``VmHWM``) where there is one: ``ru_maxrss`` would count the copy of
    the parent this process was forked from before it ran Python.
    """
    usage = resource.getrusage(resource.RUSAGE_SELF)
    peak_kib = usage.ru_maxrss
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                peak_kib = int(line.split()[1])
    return usage.ru_utime + usage.ru_stime, peak_kib / 1024


if __name__ == "__main__":
    main()
