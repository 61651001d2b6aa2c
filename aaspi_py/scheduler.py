"""Where dask work runs: ``threads`` (default, nothing started), ``processes``,
``local:N`` (a dask.distributed LocalCluster with N workers) or ``tcp://host:port``
(an existing dask.distributed cluster). No home-made parallel engine.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from typing import Any

import dask

from .errors import AaspiError, Cancelled

SCHEDULER_HELP = "threads (default), processes, local:N (start a LocalCluster of N workers) or tcp://host:port"


def check_scheduler(spec: str | None) -> str:
    spec = (spec or "threads").strip()
    if spec in ("threads", "processes", "synchronous") or re.fullmatch(r"local:\d+", spec) \
            or re.fullmatch(r"(tcp|tls)://[^\s:]+:\d+", spec):
        return spec
    raise AaspiError(f"Unknown scheduler {spec!r}; use {SCHEDULER_HELP}.")


@contextlib.contextmanager
def use_scheduler(spec: str | None = "threads") -> Iterator[Any]:
    """Run the enclosed dask work on the named scheduler."""
    spec = check_scheduler(spec)
    if spec in ("threads", "processes", "synchronous"):
        with dask.config.set(scheduler=spec):
            yield None
        return
    from distributed import Client, LocalCluster

    if spec.startswith("local:"):
        n = int(spec.split(":")[1])
        if n < 1:
            raise AaspiError("local:N needs at least one worker, e.g. --scheduler local:2.")
        with LocalCluster(n_workers=n, threads_per_worker=1, processes=True, dashboard_address=None) as cluster, \
                Client(cluster) as client:
            yield client
        return
    try:
        client = Client(spec, timeout="10s")
    except OSError as e:
        raise AaspiError(f"Cannot reach the dask cluster at {spec} ({e}); start its scheduler or use --scheduler threads.") from None
    with client:
        yield client


def _distributed_client():
    try:
        from distributed import get_client

        return get_client()
    except (ImportError, ValueError):
        return None


def compute(*objs: Any, progress=None, status: str | None = None) -> tuple:
    """``dask.compute`` that reports progress and honours cancel between tasks."""
    client = _distributed_client() if dask.config.get("scheduler", None) in (None, "dask.distributed") else None
    if client is not None:
        return _compute_distributed(client, objs, progress, status)
    if progress is None:
        return dask.compute(*objs)
    from dask.callbacks import Callback

    class _Report(Callback):
        def _start_state(self, dsk, state):
            self._total = max(1, sum(len(state[k]) for k in ("ready", "waiting", "running", "finished")))
            self._done = 0

        def _posttask(self, key, result, dsk, state, worker_id):
            self._done += 1
            progress.update(self._done / self._total, status)
            if progress.cancelled:
                raise Cancelled("cancelled by the user")

    with _Report():
        return dask.compute(*objs)


def _compute_distributed(client, objs, progress, status):
    import time

    futures = client.compute(list(objs))
    try:
        while True:
            states = [f.status for f in futures]
            if progress is not None:
                progress.update(sum(s == "finished" for s in states) / max(1, len(states)), status)
                if progress.cancelled:
                    raise Cancelled("cancelled by the user")
            if all(s in ("finished", "error", "cancelled") for s in states):
                break
            time.sleep(0.2)
        return tuple(client.gather(futures))
    finally:
        client.cancel([f for f in futures if f.status != "finished"])
