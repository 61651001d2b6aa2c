"""Run a module in a separate process (``python -m aaspi_py.gui.worker``) and follow it.

The worker calls :func:`aaspi_py.run`, the same code path as ``aaspi run``, and reports JSON
lines on stdout; this object turns them into Qt signals on the GUI thread. ``cancel()`` writes
``cancel`` on the worker's stdin: the run raises ``Cancelled`` at its next check and the
runner discards every temporary output, so nothing half-written is left. Nothing here runs
in another thread, so widgets are only ever touched from the GUI thread.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

from .qt import QProcess, QProcessEnvironment, QtCore, Signal


class RunProcess(QtCore.QObject):
    """One module run in a child process, with progress, log, result and cancel."""

    started = Signal()
    progress = Signal(float, str)
    log = Signal(str)
    done = Signal(dict)        # {"module", "outputs": {name: path}, "report": {...}, "log_path", "seconds"}
    failed = Signal(str)       # one-line message
    cancelled = Signal()
    finished = Signal()        # after any of done / failed / cancelled

    def __init__(self, parent: QtCore.QObject | None = None) -> None:
        super().__init__(parent)
        self._proc: QProcess | None = None
        self._buffer = b""
        self._ended = False
        self._stderr_tail: list[str] = []

    # -- control
    @property
    def running(self) -> bool:
        """A run is under way (a worker that has reported its end is only exiting)."""
        return self._proc is not None and self._proc.state() != QProcess.NotRunning and not self._ended

    def start(self, module: str, project: str | os.PathLike, params: dict[str, Any], *,
              overwrite: bool = False, scheduler: str = "threads") -> None:
        if self.running:
            raise RuntimeError("a run is already in progress")
        if self._proc is not None and self._proc.state() != QProcess.NotRunning:
            # the previous worker reported its end and is exiting: let it go first
            if not self._proc.waitForFinished(5000):
                self._proc.kill()
                self._proc.waitForFinished(2000)
        self._buffer, self._ended, self._stderr_tail = b"", False, []
        proc = QProcess(self)
        env = QProcessEnvironment.systemEnvironment()
        env.insert("PYTHONUNBUFFERED", "1")
        proc.setProcessEnvironment(env)
        proc.setWorkingDirectory(str(Path(project)))
        proc.readyReadStandardOutput.connect(self._read_stdout)
        proc.readyReadStandardError.connect(self._read_stderr)
        proc.finished.connect(self._exited)
        proc.errorOccurred.connect(self._process_error)
        self._proc = proc
        request = {"module": module, "project": str(project), "params": params,
                   "overwrite": overwrite, "scheduler": scheduler}
        proc.start(sys.executable, ["-m", "aaspi_py.gui.worker"])
        proc.write((json.dumps(request) + "\n").encode())

    def cancel(self) -> None:
        """Ask the run to stop; it ends with ``cancelled`` (or ``done`` if it was finishing)."""
        if self.running:
            self._proc.write(b"cancel\n")

    def wait(self, msecs: int) -> bool:
        """Block until the worker exits (True) or ``msecs`` pass (False)."""
        return not self.running or self._proc.waitForFinished(msecs)

    def kill(self) -> None:
        """Stop at once (window closing); the runner's temporaries are hidden names."""
        if self.running:
            self._proc.kill()
            self._proc.waitForFinished(5000)

    # -- worker output
    def _read_stdout(self) -> None:
        self._buffer += bytes(self._proc.readAllStandardOutput())
        *lines, self._buffer = self._buffer.split(b"\n")
        for raw in lines:
            if raw.strip():
                self._handle(raw)

    def _handle(self, raw: bytes) -> None:
        try:
            msg = json.loads(raw)
        except ValueError:
            self.log.emit(raw.decode(errors="replace"))
            return
        event = msg.get("event")
        if event == "progress":
            self.progress.emit(float(msg["fraction"]), msg.get("status") or "")
        elif event == "log":
            self.log.emit(msg["line"])
        elif event == "started":
            self.started.emit()
        elif event == "done":
            self._end(self.done, msg)
        elif event == "cancelled":
            self._end(self.cancelled)
        elif event == "error":
            self._end(self.failed, msg["message"])

    def _end(self, signal, *args) -> None:
        if not self._ended:
            self._ended = True
            signal.emit(*args)
            self.finished.emit()

    def _read_stderr(self) -> None:
        text = bytes(self._proc.readAllStandardError()).decode(errors="replace")
        for line in text.splitlines():
            if line.strip():
                self._stderr_tail = (self._stderr_tail + [line])[-5:]
                self.log.emit(line)

    def _exited(self, code: int, _status) -> None:
        self._read_stdout()
        if self._buffer.strip():
            self._handle(self._buffer)
            self._buffer = b""
        tail = f": {self._stderr_tail[-1]}" if self._stderr_tail else ""
        self._end(self.failed, f"The run stopped unexpectedly (exit code {code}){tail}")

    def _process_error(self, error) -> None:
        if error == QProcess.FailedToStart:
            self._end(self.failed, f"Cannot start {sys.executable} -m aaspi_py.gui.worker.")
