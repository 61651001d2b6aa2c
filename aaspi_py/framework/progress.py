"""The small state object that long work reports to.

Compute code calls ``progress.update(fraction, status)``, ``progress.log(line)`` and
``progress.check()`` between chunks; ``check`` raises :class:`Cancelled` once a cancel was
requested. The CLI passes :class:`TqdmProgress`; the GUI passes its own adapter; scripts get
the silent :class:`Progress`.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from aaspi_py.framework.errors import Cancelled


class Progress:
    """Silent progress: records the last fraction and status, honours cancel requests."""

    def __init__(self, on_log: Callable[[str], None] | None = None) -> None:
        self.fraction = 0.0
        self.status = ""
        self._cancel = threading.Event()
        self._on_log = on_log
        self.lines: list[str] = []

    # -- reporting
    def update(self, fraction: float, status: str | None = None) -> None:
        self.fraction = min(max(float(fraction), 0.0), 1.0)
        if status is not None:
            self.status = status
        self._changed()

    def log(self, line: str) -> None:
        self.lines.append(line)
        if self._on_log is not None:
            self._on_log(line)

    def _changed(self) -> None:
        """Hook for adapters."""

    def sub(self, start: float, stop: float) -> SubProgress:
        """A view that maps 0..1 onto start..stop of this progress (for steps of a run)."""
        return SubProgress(self, start, stop)

    # -- cancellation
    def cancel(self) -> None:
        self._cancel.set()

    @property
    def cancelled(self) -> bool:
        return self._cancel.is_set()

    def check(self) -> None:
        if self._cancel.is_set():
            raise Cancelled("cancelled by the user")

    def close(self) -> None:
        pass


class SubProgress:
    def __init__(self, parent, start: float, stop: float) -> None:
        self.parent, self.start, self.stop = parent, start, stop

    def update(self, fraction: float, status: str | None = None) -> None:
        self.parent.update(self.start + (self.stop - self.start) * fraction, status)

    def log(self, line: str) -> None:
        self.parent.log(line)

    def check(self) -> None:
        self.parent.check()

    def sub(self, start: float, stop: float) -> SubProgress:
        width = self.stop - self.start
        return SubProgress(self.parent, self.start + width * start, self.start + width * stop)

    @property
    def cancelled(self) -> bool:
        return self.parent.cancelled


class TqdmProgress(Progress):
    """Terminal progress bar for the CLI; log lines are printed above the bar."""

    def __init__(self, desc: str = "", disable: bool | None = None) -> None:
        super().__init__()
        from tqdm import tqdm

        self._bar = tqdm(total=1000, desc=desc, unit="‰", leave=False, disable=disable,
                         bar_format="{desc} {percentage:3.0f}%|{bar}| {elapsed}<{remaining} {postfix}")

    def _changed(self) -> None:
        n = int(self.fraction * 1000)
        if n != self._bar.n:
            self._bar.n = n
        self._bar.set_postfix_str(self.status[:40], refresh=False)
        self._bar.refresh()

    def log(self, line: str) -> None:
        super().log(line)
        self._bar.write(line)

    def close(self) -> None:
        self._bar.close()
