"""Where dask work runs: ``threads`` (default, nothing started), ``processes``,
``local:N`` (a dask.distributed LocalCluster with N workers) or ``tcp://host:port``
(an existing dask.distributed cluster; its workers must see the project folder at the same
path). No home-made parallel engine.

:func:`compute` is ``dask.compute`` with progress and cancel. On cancel it raises
:class:`Cancelled` only once the tasks already running have finished, so the caller can
remove its temporary output without a late chunk reappearing in it.
"""

from __future__ import annotations

import contextlib
import re
import time
from collections.abc import Iterator
from concurrent.futures import Executor, Future, ThreadPoolExecutor, wait
from typing import Any

import dask

from aaspi_py.framework.errors import AaspiError, Cancelled

SCHEDULER_HELP = "threads (default), processes, local:N (start a LocalCluster of N workers) or tcp://host:port"
#: total time to reach an existing dask cluster (tcp://host:port), handshake included
CONNECT_TIMEOUT_S = 20
#: a dask scheduler greets a new connection at once; an HTTP server waits for a request
GREETING_TIMEOUT_S = 5


def check_scheduler(spec: str | None) -> str:
    """The scheduler spec, checked; empty means ``threads``."""
    spec = (spec or "threads").strip()
    if spec in ("threads", "processes", "synchronous") or re.fullmatch(r"local:\d+", spec) \
            or re.fullmatch(r"(tcp|tls)://[^\s:]+:\d+", spec):
        return spec
    raise AaspiError(f"Unknown scheduler {spec!r}; use {SCHEDULER_HELP}.")


class TrackedPool:
    """An executor that remembers its unfinished futures, so a cancel can wait for them.

    dask's local schedulers only need ``submit`` and ``_max_workers``.
    """

    def __init__(self, executor: Executor, max_workers: int) -> None:
        self._executor = executor
        self._max_workers = max_workers
        self._futures: set[Future] = set()

    def submit(self, fn, *args, **kwargs) -> Future:
        future = self._executor.submit(fn, *args, **kwargs)
        self._futures.add(future)
        future.add_done_callback(self._futures.discard)
        return future

    def drain(self) -> None:
        """Drop queued tasks and wait for the running ones."""
        futures = list(self._futures)
        for f in futures:
            f.cancel()
        wait(futures)

    def shutdown(self, wait: bool = True) -> None:
        self._executor.shutdown(wait=wait, cancel_futures=True)


def _process_pool() -> TrackedPool:
    """A process pool made as dask makes its own, kept for a whole run (spawning is slow)."""
    import os
    from concurrent.futures import ProcessPoolExecutor
    from functools import partial

    from dask.multiprocessing import get_context, initialize_worker_process
    from dask.system import CPU_COUNT

    # same hashing in every worker, as dask.multiprocessing does
    if os.environ.get("PYTHONHASHSEED") in (None, "0"):
        os.environ["PYTHONHASHSEED"] = "6640"
    n = dask.config.get("num_workers", None) or CPU_COUNT
    executor = ProcessPoolExecutor(n, mp_context=get_context(),
                                   initializer=partial(initialize_worker_process, user_initializer=_ignore_sigint))
    return TrackedPool(executor, n)


def _ignore_sigint() -> None:
    """Workers leave Ctrl-C to the parent, which stops the run and cleans up; otherwise
    every worker prints its own KeyboardInterrupt traceback."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)


@contextlib.contextmanager
def _sigint_ignored() -> Iterator[None]:
    """Processes started inside inherit an ignored SIGINT (it survives exec)."""
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def _probe(spec: str, deadline: float) -> None:
    """Refuse an address that is not a dask scheduler before dask tries to talk to it.

    A dask scheduler sends its handshake as soon as a connection opens. A web server (the
    dashboard's port 8787) sends nothing, and dask would wait for ever or read its reply as a
    message length of exabytes.
    """
    import socket

    host, port = spec.split("://", 1)[1].rsplit(":", 1)
    try:
        with socket.create_connection((host.strip("[]"), int(port)),
                                      timeout=max(0.1, deadline - time.monotonic())) as sock:
            sock.settimeout(min(GREETING_TIMEOUT_S, max(0.1, deadline - time.monotonic())))
            try:
                first = sock.recv(8)
            except TimeoutError:
                first = b""
    except OSError as e:
        why = "timed out" if isinstance(e, TimeoutError) else (e.strerror or str(e))
        raise AaspiError(f"Cannot reach the dask cluster at {spec} ({why}); start its scheduler "
                         "or use --scheduler threads.") from None
    if len(first) < 8 or first.startswith(b"HTTP"):
        raise AaspiError(f"{spec} answers but is not a dask scheduler (no dask handshake within "
                         f"{GREETING_TIMEOUT_S} s; is it the dashboard's web port? the scheduler's port is "
                         "usually 8786).")


def _connect(spec: str):
    """A distributed Client for tcp:// or tls://, in at most CONNECT_TIMEOUT_S, or one clear line."""
    from distributed import Client

    deadline = time.monotonic() + CONNECT_TIMEOUT_S
    kwargs = {}
    if spec.startswith("tls://"):
        from distributed.security import Security

        security = Security()
        if not (security.tls_client_cert or security.tls_ca_file):
            raise AaspiError(f"{spec} needs the cluster's TLS certificates: set distributed.comm.tls.ca-file and "
                             "distributed.comm.tls.client.cert/key in the dask configuration "
                             "(~/.config/dask/distributed.yaml), or use tcp://.")
        kwargs["security"] = security
    else:
        _probe(spec, deadline)
    remaining = max(1.0, deadline - time.monotonic())
    try:
        with _sigint_ignored():
            return Client(spec, timeout=f"{remaining:.0f}s", **kwargs)
    except Exception as e:  # noqa: BLE001 - dask raises OSError, TimeoutError, TypeError, ...
        raise AaspiError(f"Cannot connect to the dask cluster at {spec} ({type(e).__name__}: {e}); check the "
                         "address and that its scheduler runs, or use --scheduler threads.") from None


@contextlib.contextmanager
def use_scheduler(spec: str | None = "threads") -> Iterator[Any]:
    """Run the enclosed dask work on the named scheduler; yields the distributed client or None."""
    spec = check_scheduler(spec)
    if spec in ("threads", "synchronous"):
        with dask.config.set(scheduler=spec):
            yield None
        return
    if spec == "processes":
        pool = _process_pool()
        try:
            with dask.config.set(scheduler="processes", pool=pool):
                yield None
        finally:
            pool.shutdown()
        return
    from distributed import Client, LocalCluster

    if spec.startswith("local:"):
        n = int(spec.split(":")[1])
        if n < 1:
            raise AaspiError("local:N needs at least one worker, e.g. --scheduler local:2.")
        with _sigint_ignored():
            cluster = LocalCluster(n_workers=n, threads_per_worker=1, processes=True, dashboard_address=None)
        with cluster, Client(cluster) as client:
            yield client
        return
    with _connect(spec) as client:
        yield client


def _distributed_client():
    try:
        from distributed import get_client

        return get_client()
    except (ImportError, ValueError):
        return None


def compute(*objs: Any, progress=None, status: str | None = None) -> tuple:
    """``dask.compute`` that reports progress and honours cancel between tasks."""
    scheduler = dask.config.get("scheduler", None)
    client = _distributed_client() if scheduler in (None, "dask.distributed") else None
    if client is not None:
        return _compute_distributed(client, objs, progress, status)
    if progress is None:
        return dask.compute(*objs)
    if progress.cancelled:
        raise Cancelled("cancelled by the user")
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

    pool = dask.config.get("pool", None)
    if isinstance(pool, TrackedPool):
        try:
            with _Report():
                return dask.compute(*objs)
        except BaseException:
            pool.drain()
            raise
    if scheduler not in (None, "threads", "threading"):
        with _Report():
            return dask.compute(*objs)
    from dask.system import CPU_COUNT

    threads = ThreadPoolExecutor(dask.config.get("num_workers", None) or CPU_COUNT)
    try:
        with _Report():
            return dask.compute(*objs, scheduler="threads", pool=threads)
    finally:
        threads.shutdown(wait=True, cancel_futures=True)


#: how often a run on a dask.distributed cluster asks its scheduler for finished tasks
PROGRESS_POLL_S = 0.1


def _compute_distributed(client, objs, progress, status):
    if progress is not None and progress.cancelled:
        raise Cancelled("cancelled by the user")
    futures = client.compute(list(objs))
    counter = _TaskCounter(client, futures)
    try:
        while True:
            states = [f.status for f in futures]
            finished = all(s in ("finished", "error", "cancelled") for s in states)
            if progress is not None:
                # per finished task of the whole graph, not per output: a module writes few
                # outputs of many chunks each
                progress.update(1.0 if finished else counter.fraction(), status)
                if progress.cancelled:
                    raise Cancelled("cancelled by the user")
            if finished:
                break
            time.sleep(PROGRESS_POLL_S)
        return tuple(client.gather(futures))
    finally:
        pending = [f for f in futures if f.status != "finished"]
        if pending:
            client.cancel(pending)
            # a task already running on a worker cannot be stopped: wait until all are idle
            deadline = time.monotonic() + 60
            quiet = 0
            while quiet < 3 and time.monotonic() < deadline:
                quiet = quiet + 1 if sum(client.run(_busy).values()) == 0 else 0
                time.sleep(0.05)


class _TaskCounter:
    """Finished share of all the tasks behind some futures, asked of the scheduler.

    The tasks are counted once the graph has reached the scheduler; a task is finished
    when it is no longer waiting or running (tasks done and no longer needed are forgotten
    by the scheduler, so finished = total - still pending). Never goes back.
    """

    def __init__(self, client, futures) -> None:
        self._client = client
        self._keys = [f.key for f in futures]
        self._total = 0
        self._done = 0.0

    def fraction(self) -> float:
        try:
            total, pending = self._client.run_on_scheduler(_pending_tasks, keys=self._keys)
        except Exception:  # noqa: BLE001 - a scheduler busy or going away: report nothing new
            return self._done
        if not self._total:
            self._total = total  # 0 until the whole graph has arrived
        if self._total:
            self._done = max(self._done, (self._total - pending) / self._total)
        return self._done


def _pending_tasks(dask_scheduler, keys) -> tuple[int, int]:
    """Runs on the scheduler: (tasks behind ``keys``, those still waiting or running);
    (0, 0) while some of ``keys`` have not arrived."""
    tasks = dask_scheduler.tasks
    if any(k not in tasks for k in keys):
        return 0, 0
    pending = ("released", "waiting", "processing", "no-worker", "queued")
    seen, stack, n_pending = set(), [tasks[k] for k in keys], 0
    while stack:
        ts = stack.pop()
        if ts.key in seen:
            continue
        seen.add(ts.key)
        if ts.state in pending:
            n_pending += 1
            stack.extend(ts.dependencies)
    return len(seen), n_pending


def distributed_active() -> bool:
    """Whether dask work now runs on a dask.distributed client."""
    return dask.config.get("scheduler", None) in (None, "dask.distributed") and _distributed_client() is not None


def worker_memory_limit() -> int:
    """The smallest memory limit of the connected dask.distributed workers (0: none known)."""
    if not distributed_active():
        return 0
    try:
        workers = _distributed_client().scheduler_info()["workers"].values()
    except Exception:  # noqa: BLE001 - no answer: no limit known
        return 0
    limits = [int(w.get("memory_limit") or 0) for w in workers]
    limits = [x for x in limits if x]
    return min(limits) if limits else 0


#: worker task states that may still run user code
_BUSY = ("waiting", "ready", "constrained", "executing", "long-running", "fetch", "flight", "resumed")


def _busy(dask_worker) -> int:
    """Tasks a distributed worker is running or about to run (runs on the worker)."""
    return sum(ts.state in _BUSY for ts in dask_worker.state.tasks.values())
