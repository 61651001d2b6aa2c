"""Benchmark: rfc3d whole-volume prediction, 9 attributes, 100 trees of depth 12.

Figures:

* throughput of the chunked prediction (read 9 zarr attribute volumes, classify, write the
  int16 class volume), for volumes of 128³, 256³ and 384³ voxels, each run in a fresh
  subprocess that reports its peak RSS: memory must not grow with the volume;
* anchor, same run: scikit-learn's ``RandomForestClassifier.predict`` (n_jobs = CPU count)
  on the whole 256³ array in memory, beside our kernel on the same in-memory array.

Wall-clock throughput depends on what else runs on the machine, so each figure is also
given per CPU-second (voxels / CPU time of the process, all threads), which does not.

The attribute volumes are generated in ``benches/_work/`` (git-ignored) one size at a time
and deleted afterwards (384³ × 9 float32 is 2 GB). Usage::

    python benches/rfc3d.py                 # 128, 256, 384
    python benches/rfc3d.py --sizes 128,256 # quicker
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
from _memory import peak_rss_bytes

WORK = Path(__file__).resolve().parent / "_work" / "rfc3d"
N_ATTR, N_TREES, DEPTH, N_TRAIN = 9, 100, 12, 40_000
CHUNKS = (64, 64, 128)


def training_data():
    """Noisy 3-class labels in 9 attributes: every tree grows to depth 12."""
    rng = np.random.default_rng(0)
    X = rng.standard_normal((N_TRAIN, N_ATTR)).astype(np.float32)
    score = X[:, 0] + 0.6 * X[:, 1] - 0.4 * X[:, 2] + 0.8 * rng.standard_normal(N_TRAIN)
    y = 1 + (score > -0.5).astype(int) + (score > 0.7).astype(int)
    return X, y


def fit_forest():
    from sklearn.ensemble import RandomForestClassifier

    X, y = training_data()
    return RandomForestClassifier(N_TREES, max_depth=DEPTH, random_state=0, n_jobs=-1).fit(X, y)


def peak_rss_mb() -> float:
    return peak_rss_bytes() / 2**20


# ---------------------------------------------------------------- children

def child_predict(size: int) -> dict:
    """Chunked prediction of one size, as rfc3d does it: zarr in, zarr out."""
    import aaspi_py
    from aaspi_py.forest.model import ForestModel
    from aaspi_py.forest.predict import predict_dask
    from aaspi_py.framework.scheduler import use_scheduler
    from aaspi_py.volume import build_dataset, write_dataset

    model = ForestModel.load(WORK / "model")
    folder = WORK / f"s{size}"
    datasets = [aaspi_py.open_volume(folder / f"a{i}.zarr") for i in range(N_ATTR)]
    model.predict(np.zeros((64, N_ATTR), np.float32))  # numba kernel loaded before timing
    base = peak_rss_mb()
    load = os.getloadavg()[0]
    t0, c0 = time.perf_counter(), time.process_time()
    with use_scheduler("threads"):
        classes, _ = predict_dask(model, datasets)
        ds = build_dataset(classes, like=datasets[0], kind="classification")
        write_dataset(ds, folder / "classes.zarr", chunks=CHUNKS)
    seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
    return {"size": size, "voxels": size**3, "seconds": seconds, "mvox_s": size**3 / seconds / 1e6,
            "cpu_s": cpu, "mvox_cpu_s": size**3 / cpu / 1e6,
            "rss_base_mb": base, "rss_peak_mb": peak_rss_mb(), "load": [load, os.getloadavg()[0]]}


def child_anchor(size: int) -> dict:
    """scikit-learn predict and our kernel on the same whole in-memory array."""
    import aaspi_py
    from aaspi_py.forest.model import ForestModel

    forest = fit_forest()
    model = ForestModel.load(WORK / "model")
    same = np.array_equal(model.threshold, ForestModel.from_sklearn(forest, model.attributes).threshold)
    folder = WORK / f"s{size}"
    X = np.empty((size**3, N_ATTR), np.float32)
    for i in range(N_ATTR):
        X[:, i] = aaspi_py.open_volume(folder / f"a{i}.zarr")["data"].values.reshape(-1)
    model.predict(X[:64])
    load = os.getloadavg()[0]
    t0, c0 = time.perf_counter(), time.process_time()
    ours = model.predict(X)
    t_ours, c_ours = time.perf_counter() - t0, time.process_time() - c0
    forest.set_params(n_jobs=os.cpu_count())
    t0, c0 = time.perf_counter(), time.process_time()
    theirs = forest.predict(X)
    t_sk, c_sk = time.perf_counter() - t0, time.process_time() - c0
    return {"size": size, "same_forest": bool(same), "kernel_s": t_ours, "sklearn_s": t_sk,
            "kernel_mvox_s": size**3 / t_ours / 1e6, "sklearn_mvox_s": size**3 / t_sk / 1e6,
            "kernel_mvox_cpu_s": size**3 / c_ours / 1e6, "sklearn_mvox_cpu_s": size**3 / c_sk / 1e6,
            "agree": float(np.mean(ours == theirs)), "load": [load, os.getloadavg()[0]]}


# ---------------------------------------------------------------- parent

def make_volumes(size: int) -> None:
    """Nine float32 attribute volumes of size³, written chunk by chunk (bounded memory)."""
    import dask.array as da

    import aaspi_py

    folder = WORK / f"s{size}"
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(N_ATTR):
        data = da.random.default_rng(100 + i).standard_normal((size,) * 3, chunks=CHUNKS, dtype=np.float32)
        aaspi_py.save_volume(data, folder / f"a{i}.zarr", chunks=CHUNKS, overwrite=True)


def run_child(mode: str, size: int) -> dict:
    out = subprocess.run([sys.executable, __file__, "--child", mode, "--sizes", str(size)],
                         capture_output=True, text=True, check=False)
    if out.returncode != 0:
        raise RuntimeError(f"{mode} {size} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="128,256,384")
    ap.add_argument("--anchor-size", type=int, default=256)
    ap.add_argument("--child", choices=("predict", "anchor"))
    args = ap.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    if args.child:
        fn = child_predict if args.child == "predict" else child_anchor
        print(json.dumps(fn(sizes[0])))
        return

    from aaspi_py.forest.model import ForestModel

    WORK.mkdir(parents=True, exist_ok=True)
    forest = fit_forest()
    model = ForestModel.from_sklearn(forest, [f"a{i}" for i in range(N_ATTR)])
    model.save(WORK / "model")
    print(f"forest: {model.n_trees} trees, depth {int(model.depths.min())}..{int(model.depths.max())}, "
          f"{len(model.feature) / model.n_trees:.0f} nodes per tree; {os.cpu_count()} CPUs, "
          f"load average {os.getloadavg()[0]:.2f} at start")
    rows, anchor = [], None
    try:
        for size in sizes:
            make_volumes(size)
            rows.append(run_child("predict", size))
            r = rows[-1]
            print(f"{size}^3 chunked predict: {r['seconds']:.2f} s, {r['mvox_s']:.2f} Mvox/s "
                  f"({r['mvox_cpu_s']:.2f} Mvox per CPU-second), peak RSS "
                  f"{r['rss_peak_mb']:.0f} MB (after imports {r['rss_base_mb']:.0f} MB), load {r['load'][0]:.1f}"
                  f"->{r['load'][1]:.1f}", flush=True)
            if size == args.anchor_size:
                anchor = run_child("anchor", size)
                a = anchor
                print(f"{size}^3 in memory: our kernel {a['kernel_mvox_s']:.2f} Mvox/s "
                      f"({a['kernel_mvox_cpu_s']:.2f} per CPU-s), scikit-learn predict {a['sklearn_mvox_s']:.3f} "
                      f"Mvox/s ({a['sklearn_mvox_cpu_s']:.3f} per CPU-s, n_jobs={os.cpu_count()}), classes agree on "
                      f"{a['agree']:.6f} of voxels, same forest: {a['same_forest']}", flush=True)
            shutil.rmtree(WORK / f"s{size}")
    finally:
        shutil.rmtree(WORK, ignore_errors=True)
    if anchor is not None:
        main_row = next(r for r in rows if r["size"] == args.anchor_size)
        print(f"ratio: chunked prediction {main_row['mvox_s']:.2f} Mvox/s / scikit-learn in memory "
              f"{anchor['sklearn_mvox_s']:.3f} Mvox/s = {main_row['mvox_s'] / anchor['sklearn_mvox_s']:.1f}x "
              f"(per CPU-second: {main_row['mvox_cpu_s'] / anchor['sklearn_mvox_cpu_s']:.1f}x)")
    peaks = [r["rss_peak_mb"] for r in rows]
    print("peak RSS by size: " + ", ".join(f"{r['size']}^3 {r['rss_peak_mb']:.0f} MB" for r in rows)
          + f" (largest / smallest {max(peaks) / min(peaks):.2f})")


if __name__ == "__main__":
    main()
