"""Benchmark: GTM training and whole-volume mapping.

Figures, each beside its anchor measured in the same run:

* **fit**: 50,000 voxels × 9 attributes, 20×20 latent grid, 5×5 RBFs (width 1 spacing,
  ugtm ``s = 1``), regularisation 0.1, 100 EM iterations — our :class:`aaspi_py.GTM` with
  the same model as ugtm (``linear_terms=False``) against ``ugtm.initialize`` +
  ``ugtm.optimize`` on the same standardised data. Both final log-likelihoods are computed
  here with one definition (mean log p(x) per voxel, exact log-sum-exp), since ugtm's own
  figure leaves out a shift. Our default model (with linear terms) is timed as well.
* **map**: gtm3d's one-pass volume mapping (:func:`aaspi_py.gtm.volume_mapping.map_volume` written
  by :func:`aaspi_py.framework.volume_store.write_volumes`, as the module does) of a 256³ × 9
  attribute volume read from zarr, outputs written to zarr — the three latent volumes
  only, then all outputs with three facies (latent, 3 probability, 3 posterior,
  classification) — each in a fresh subprocess that reports its peak RSS; beside it, in
  the same run, the same mapping of the inputs held in memory with nothing written (the
  kernel) and a zarr copy with the same reads and latent writes (the I/O anchor); anchor:
  ``ugtm.projection`` (responsibilities, means, modes) of 100,000 voxels held in memory.

The volumes are generated in ``benches/_work/`` (git-ignored) and deleted afterwards.
The CPU may be shared: the load average is printed with each figure.

Run: ``.venv/bin/python benches/gtm3d.py [--size 256] [--skip-ugtm] [--map-only]``
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np

WORK = Path(__file__).resolve().parent / "_work" / "gtm3d"
N_ATTR, N_FIT, N_ITER = 9, 50_000, 100
LATENT, RBF, WIDTH, REGUL = (20, 20), (5, 5), 1.0, 0.1
CHUNKS = (64, 64, 128)


# ---------------------------------------------------------------- synthetic attributes

_MIX = np.random.default_rng(5).normal(size=(6, N_ATTR))


def attributes(s: np.ndarray, t: np.ndarray, facies: np.ndarray, noise: np.ndarray) -> np.ndarray:
    """Nine attributes of voxels on a curved 2D sheet, shifted by facies: shape (..., 9)."""
    feats = np.stack([s, t, np.sin(3 * s), np.cos(2 * t), s * t, (facies == 1) * 1.5 - (facies == 2)], -1)
    return (feats @ _MIX + 0.3 * noise).astype(np.float32)


def facies_of(s: np.ndarray, t: np.ndarray) -> np.ndarray:
    return np.where(s > 0.75, 1, np.where(t < 0.3, 2, 3)).astype(np.int16)


def fit_data() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    s, t = rng.uniform(size=(2, N_FIT))
    f = facies_of(s, t)
    X = attributes(s, t, f, rng.standard_normal((N_FIT, N_ATTR))).astype(np.float64)
    return X, f


def _block(j: int, block_info=None) -> np.ndarray:
    (i0, i1), (x0, x1), (k0, k1) = block_info[None]["array-location"]
    i, x, k = np.meshgrid(np.arange(i0, i1), np.arange(x0, x1), np.arange(k0, k1), indexing="ij")
    s = 0.5 + 0.5 * np.sin(i / 37.0 + k / 71.0) * np.cos(x / 53.0)
    t = 0.5 + 0.5 * np.cos(x / 41.0 - k / 89.0)
    rng = np.random.default_rng([j, i0, x0, k0])
    return attributes(s, t, facies_of(s, t), rng.standard_normal((*s.shape, N_ATTR)))[..., j]


def make_volumes(size: int) -> None:
    """Nine float32 attribute volumes of size³, generated and written chunk by chunk."""
    import dask.array as da

    import aaspi_py

    folder = WORK / f"s{size}"
    folder.mkdir(parents=True, exist_ok=True)
    for j in range(N_ATTR):
        data = da.map_blocks(_block, j, chunks=da.core.normalize_chunks(CHUNKS, (size,) * 3), dtype=np.float32)
        aaspi_py.save_volume(data, folder / f"a{j}.zarr", chunks=CHUNKS, overwrite=True)


# ---------------------------------------------------------------- measurements

def exact_loglik(X: np.ndarray, centers: np.ndarray, beta: float) -> float:
    """Mean log p(x) of the equal-weight isotropic mixture, by blocks with scipy's logsumexp."""
    from scipy.special import logsumexp

    k, d = centers.shape
    total = 0.0
    for start in range(0, len(X), 2000):
        x = X[start:start + 2000]
        d2 = ((x[:, None, :] - centers[None]) ** 2).sum(-1)
        total += logsumexp(-0.5 * beta * d2, axis=1).sum()
    return total / len(X) + 0.5 * d * np.log(beta / (2 * np.pi)) - np.log(k)


def load() -> float:
    return os.getloadavg()[0]


def bench_fit(X: np.ndarray, skip_ugtm: bool) -> dict:
    from sklearn.exceptions import ConvergenceWarning

    from aaspi_py.gtm.estimator import GTM

    out = {}
    for name, linear in (("ours", False), ("ours_default", True)):
        gtm = GTM(LATENT, RBF, WIDTH, REGUL, linear_terms=linear, max_iter=N_ITER, tol=0)
        l0 = load()
        t0 = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            gtm.fit(X)
        seconds = time.perf_counter() - t0
        out[name] = {"seconds": seconds, "iterations": gtm.n_iter_, "loglik": gtm.loglik_[-1],
                     "check": exact_loglik(X, gtm.means_, gtm.beta_), "load": [l0, load()]}
        r = out[name]
        print(f"fit {name}{' (linear terms)' if linear else ' (same model as ugtm)'}: {seconds:.2f} s for "
              f"{gtm.n_iter_} iterations ({seconds / gtm.n_iter_ * 1e3:.0f} ms each), log-likelihood "
              f"{r['loglik']:.6f} (check {r['check']:.6f}), load {r['load'][0]:.1f}->{r['load'][1]:.1f}", flush=True)
    if skip_ugtm:
        return out
    import ugtm
    from ugtm import ugtm_core

    calls = {"n": 0}
    original = ugtm_core.createPMatrix

    def counting(*a, **kw):  # one call per EM iteration plus a final one
        calls["n"] += 1
        return original(*a, **kw)

    ugtm_core.createPMatrix = counting
    l0 = load()
    t0 = time.perf_counter()
    init = ugtm.initialize(X, LATENT[0], RBF[0], WIDTH**2, random_state=0)
    opt = ugtm.optimize(X, init, REGUL, N_ITER, verbose=False)
    seconds = time.perf_counter() - t0
    ugtm_core.createPMatrix = original
    out["ugtm"] = {"seconds": seconds, "iterations": calls["n"] - 1,
                   "loglik": exact_loglik(X, opt.matY.T, 1.0 / float(opt.betaInv)), "load": [l0, load()]}
    r = out["ugtm"]
    print(f"fit ugtm: {seconds:.2f} s for {r['iterations']} iterations ({seconds / r['iterations'] * 1e3:.0f} ms each), "
          f"log-likelihood {r['loglik']:.6f}, load {r['load'][0]:.1f}->{r['load'][1]:.1f}", flush=True)
    out["ugtm_model"] = opt
    return out


def bench_projection_anchor(opt, X: np.ndarray) -> dict:
    import ugtm

    data = np.tile(X, (2, 1))[:100_000]
    l0 = load()
    t0 = time.perf_counter()
    ugtm.projection(opt, data)
    seconds = time.perf_counter() - t0
    return {"voxels": len(data), "seconds": seconds, "mvox_s": len(data) / seconds / 1e6, "load": [l0, load()]}


# ---------------------------------------------------------------- child: map a volume

class PeakRSS:
    """Samples this process's resident memory in a thread (ru_maxrss would include the
    parent's memory at fork time)."""

    def __init__(self, interval: float = 0.02) -> None:
        import threading

        import psutil

        self._proc = psutil.Process()
        self._stop = threading.Event()
        self.peak = self._proc.memory_info().rss
        self._thread = threading.Thread(target=self._run, args=(interval,), daemon=True)

    def _run(self, interval: float) -> None:
        while not self._stop.wait(interval):
            self.peak = max(self.peak, self._proc.memory_info().rss)

    def __enter__(self) -> PeakRSS:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self._proc.memory_info().rss)


def child_map(size: int, mode: str) -> dict:
    """One measurement in a fresh process: ``latent`` / ``full`` run gtm3d's mapping path
    (map_volume + write_volumes); ``copy`` reads the nine inputs and writes three volumes
    (the I/O of the latent mapping, nothing computed); ``kernel`` maps the same voxels held
    in memory (numpy chunks, no zarr), the speed the module path could reach."""
    from threadpoolctl import threadpool_limits

    import aaspi_py
    from aaspi_py.framework.scheduler import use_scheduler
    from aaspi_py.framework.volume_store import write_volumes
    from aaspi_py.gtm.volume_mapping import VolumeGTM, map_volume, one_pass
    from aaspi_py.volume import build_dataset

    model = VolumeGTM.load(WORK / "model")
    if mode != "full":
        model.facies, model.facies_pdfs, model.facies_counts = [], None, None
    folder = WORK / f"s{size}"
    datasets = [aaspi_py.open_volume(folder / f"a{j}.zarr") for j in range(N_ATTR)]
    mask = datasets[0]["trace_mask"].values
    data = [ds["data"].data for ds in datasets]
    out = folder / "out"
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir()
    if mode == "kernel":
        import dask

        data = [dask.compute(d)[0] for d in data]  # in memory before the clock starts
        import dask.array as da

        data = [da.from_array(d, chunks=CHUNKS) for d in data]
    base = PeakRSS().peak / 2**20
    l0 = load()
    t0, c0 = time.perf_counter(), time.process_time()
    with use_scheduler("threads"), threadpool_limits(limits=1, user_api="blas"), one_pass(), PeakRSS() as rss:
        if mode == "copy":
            vols = {f"c{j}": (sum(data[3 * j:3 * j + 3]), "attribute") for j in range(3)}
            write_volumes([(build_dataset(a, like=datasets[0], kind=kind), out / f"{n}.zarr")
                           for n, (a, kind) in vols.items()], chunks=CHUNKS)
            pdf = np.ones(1)
        else:
            maps = map_volume(model, data, mask)
            vols = {"u1": (maps.latent_mean[0], "latent"), "u2": (maps.latent_mean[1], "latent"),
                    "mode": (maps.latent_mode, "latent")}
            for f, p, q in zip(model.facies, maps.bhattacharyya, maps.posterior):
                vols[f"p_{f}"] = (p, "probability")
                vols[f"q_{f}"] = (q, "probability")
            if model.facies:
                vols["class"] = (maps.classification, "classification")
            if mode == "kernel":  # the same tasks, results dropped instead of written
                import dask

                dask.compute(*(a.map_blocks(lambda b: np.zeros((1, 1, 1)), chunks=tuple((1,) * n for n in a.numblocks))
                               for a, _ in vols.values()), maps.pdf)
                pdf = np.ones(1)
            else:
                pdf_blocks = maps.per_chunk[0]
                (pdf,) = write_volumes([(build_dataset(a, like=datasets[0], kind=kind), out / f"{n}.zarr")
                                        for n, (a, kind) in vols.items()], pdf_blocks, chunks=CHUNKS)
    seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
    return {"size": size, "mode": mode, "outputs": len(vols), "seconds": seconds, "cpu_seconds": cpu,
            "mvox_s": size**3 / seconds / 1e6, "mvox_cpu_s": size**3 / cpu / 1e6, "pdf_sum": float(np.sum(pdf)),
            "rss_base_mb": base, "rss_peak_mb": rss.peak / 2**20, "load": [l0, load()]}


def run_child(size: int, mode: str) -> dict:
    out = subprocess.run([sys.executable, __file__, "--child", mode, "--size", str(size)],
                         capture_output=True, text=True, check=False)
    if out.returncode != 0:
        raise RuntimeError(f"child {mode} {size} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


# ---------------------------------------------------------------- main

def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", type=int, default=256)
    ap.add_argument("--skip-ugtm", action="store_true", help="leave out the ugtm anchors (about 3 minutes)")
    ap.add_argument("--map-only", action="store_true",
                    help="only the volume mapping and its anchor (ugtm trained 2 iterations for the projection)")
    ap.add_argument("--child", choices=("latent", "full", "copy", "kernel"))
    args = ap.parse_args()
    if args.child:
        print(json.dumps(child_map(args.size, args.child)))
        return

    from aaspi_py.gtm.estimator import GTM
    from aaspi_py.gtm.volume_mapping import VolumeGTM

    print(f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, load average {load():.2f} at start; "
          f"fit {N_FIT} x {N_ATTR}, grid {LATENT}, RBFs {RBF}, {N_ITER} iterations", flush=True)
    X, f = fit_data()
    X = (X - X.mean(0)) / X.std(0)
    if args.map_only:
        fits = {}
        if not args.skip_ugtm:
            import ugtm

            fits["ugtm_model"] = ugtm.optimize(X, ugtm.initialize(X, LATENT[0], RBF[0], WIDTH**2), REGUL, 2,
                                               verbose=False)
    else:
        fits = bench_fit(X, args.skip_ugtm)
    if "ugtm" in fits:
        o, u = fits["ours"], fits["ugtm"]
        print(f"ratio fit: ugtm {u['seconds']:.1f} s / ours {o['seconds']:.1f} s = {u['seconds'] / o['seconds']:.1f}x "
              f"faster; log-likelihood ours - ugtm = {o['loglik'] - u['loglik']:+.6f}", flush=True)

    WORK.mkdir(parents=True, exist_ok=True)
    try:
        # the model mapped below: our default GTM, facies PDFs from every 10th voxel
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model = VolumeGTM(gtm=GTM(LATENT, RBF, WIDTH, REGUL, max_iter=N_ITER).fit(X),
                              attributes=[f"a{j}" for j in range(N_ATTR)], center=np.zeros(N_ATTR),
                              scale=np.ones(N_ATTR))
        raw, _ = fit_data()
        model.center, model.scale = raw.mean(0), raw.std(0)
        model.fit_facies(raw[::10], f[::10] - 1, ["f1", "f2", "f3"])
        model.save(WORK / "model")
        t0 = time.perf_counter()
        make_volumes(args.size)
        print(f"generated {args.size}^3 x {N_ATTR} volumes in {time.perf_counter() - t0:.1f} s", flush=True)
        rows = {}
        for mode in ("latent", "full", "kernel", "copy"):
            r = rows[mode] = run_child(args.size, mode)
            what = {"latent": "latent u1, u2, mode", "full": "all outputs, 3 facies",
                    "kernel": "latent, inputs in memory, nothing written (kernel)",
                    "copy": "zarr copy: read the 9 inputs, write 3 volumes (I/O anchor)"}[mode]
            print(f"map {args.size}^3 x {N_ATTR} ({what}: {r['outputs']} volumes): "
                  f"{r['seconds']:.2f} s, {r['mvox_s']:.2f} Mvoxel/s wall; {r['cpu_seconds']:.1f} CPU-s, "
                  f"{r['mvox_cpu_s']:.2f} Mvoxel per CPU-second (x{os.cpu_count()} cores = "
                  f"{r['mvox_cpu_s'] * os.cpu_count():.2f} Mvoxel/s on an idle machine); peak RSS {r['rss_peak_mb']:.0f} MB "
                  f"(after imports {r['rss_base_mb']:.0f} MB; the inputs alone are "
                  f"{args.size**3 * N_ATTR * 4 / 2**20:.0f} MB), load {r['load'][0]:.1f}->{r['load'][1]:.1f}", flush=True)
        lat, ker, cp = rows["latent"], rows["kernel"], rows["copy"]
        print(f"ratios (same run): module latent / kernel = {lat['mvox_s'] / ker['mvox_s']:.2f} wall, "
              f"{lat['mvox_cpu_s'] / ker['mvox_cpu_s']:.2f} per CPU-second; copy / module latent = "
              f"{lat['seconds'] and cp['mvox_s'] / lat['mvox_s']:.1f}x faster; target >= 2 Mvoxel/s latent: "
              f"{'met' if lat['mvox_s'] >= 2 else 'NOT met'} wall, "
              f"{'met' if lat['mvox_cpu_s'] * os.cpu_count() >= 2 else 'NOT met'} on idle cores (CPU-bound estimate)",
              flush=True)
        if "ugtm_model" in fits:
            a = bench_projection_anchor(fits["ugtm_model"], X)
            print(f"anchor: ugtm.projection of {a['voxels']} voxels in memory: {a['seconds']:.2f} s, "
                  f"{a['mvox_s']:.3f} Mvoxel/s, load {a['load'][0]:.1f}->{a['load'][1]:.1f}")
            for mode, r in rows.items():
                print(f"ratio map ({mode}): {r['mvox_s']:.2f} / {a['mvox_s']:.3f} Mvoxel/s = "
                      f"{r['mvox_s'] / a['mvox_s']:.0f}x")
    finally:
        shutil.rmtree(WORK, ignore_errors=True)


if __name__ == "__main__":
    main()
