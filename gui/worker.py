"""``python -m aaspi_py.gui.worker``: runs one module for the GUI in its own process.

Protocol (one JSON object per line):

* stdin, first line: ``{"module", "project", "params", "overwrite", "scheduler"}``;
  any later line ``cancel`` (or the end of stdin, when the GUI went away) asks the run to stop.
* stdout: ``{"event": "started"}``, ``{"event": "progress", "fraction", "status"}``,
  ``{"event": "log", "line"}``, then exactly one of ``{"event": "done", "module", "outputs",
  "report", "log_path", "seconds"}``, ``{"event": "cancelled"}`` or ``{"event": "error", "message"}``.

The run goes through :func:`aaspi_py.run`, the code path of ``aaspi run``; a cancel makes
the run raise :class:`~aaspi_py.framework.errors.Cancelled` and the runner discards its temporaries.
This file never imports Qt.
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time
import traceback
from typing import Any, TextIO

from aaspi_py.framework.progress import Progress


class JsonProgress(Progress):
    """Progress that reports to the GUI as JSON lines, at most a few dozen per second."""

    def __init__(self, out: TextIO) -> None:
        super().__init__()
        self._out = out
        self._lock = threading.Lock()
        self._sent = (-1, None, 0.0)

    def send(self, **message: Any) -> None:
        line = json.dumps(message, default=str)
        with self._lock:  # dask calls update from its worker threads
            self._out.write(line + "\n")
            self._out.flush()

    def _changed(self) -> None:
        permille, now = int(self.fraction * 1000), time.monotonic()
        last_permille, last_status, last_time = self._sent
        if permille == last_permille and self.status == last_status:
            return
        if self.status == last_status and permille < 1000 and now - last_time < 0.05:
            return
        self._sent = (permille, self.status, now)
        self.send(event="progress", fraction=self.fraction, status=self.status)

    def log(self, line: str) -> None:
        super().log(line)
        self.send(event="log", line=line)


def _listen(stream: TextIO, progress: Progress) -> None:
    """Turn a ``cancel`` line, or the end of stdin, into a cancel request."""
    for line in stream:
        if line.strip() == "cancel":
            break
    progress.cancel()


def serve(stdin: TextIO, out: TextIO) -> int:
    """Read one request from ``stdin``, run it, report on ``out``; the exit status."""
    from aaspi_py.framework.errors import AaspiError, Cancelled
    from aaspi_py.framework.runner import run

    progress = JsonProgress(out)
    try:
        request = json.loads(stdin.readline() or "null")
        module, project = request["module"], request["project"]
    except (ValueError, TypeError, KeyError):
        progress.send(event="error", message="The GUI worker got no valid request on stdin.")
        return 2
    threading.Thread(target=_listen, args=(stdin, progress), daemon=True).start()
    progress.send(event="started", pid=os.getpid())
    try:
        result = run(module, project, progress=progress, overwrite=bool(request.get("overwrite")),
                     scheduler=request.get("scheduler") or "threads", **request.get("params", {}))
    except Cancelled:
        progress.send(event="cancelled")
        return 3
    except AaspiError as e:
        progress.send(event="error", message=str(e))
        return 2
    except Exception as e:  # the GUI shows one line; the traceback goes to its log
        traceback.print_exc(file=sys.stderr)
        progress.send(event="error", message=f"{type(e).__name__}: {e}")
        return 1
    progress.send(event="done", module=result.module, outputs={k: str(v) for k, v in result.outputs.items()},
                  report=result.report, log_path=str(result.log_path), seconds=result.seconds)
    return 0


def main() -> int:
    # The protocol owns the real stdout; anything a library prints goes to stderr instead.
    out = os.fdopen(os.dup(sys.stdout.fileno()), "w", encoding="utf-8", buffering=1)
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    sys.stdout = sys.stderr
    try:
        return serve(sys.stdin, out)
    finally:
        out.flush()
        sys.stderr.flush()


if __name__ == "__main__":
    # os._exit: the stdin listener may still be blocked in a read, which must not stall shutdown
    os._exit(main())
