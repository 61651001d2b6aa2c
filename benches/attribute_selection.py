"""Benchmark: attribute selection, N = 9 attributes, M = 3 facies, 5 000 voxels per facies.

Figures:

* ours: :func:`aaspi_py.selection.attribute_selection.select_attributes` with its defaults — all 511
  combinations, K = 1..2 clusters, the nine covariance models, SEM 200 iterations → CEM,
  BIC, Bhattacharyya scores, the recommendation (held-out facies separation, 3 folds) and
  the held-out validation of every n — on a planted training set
  (:func:`aaspi_py.selection.planted_shapes.planted_shapes_training_set`: 3 informative attributes with
  a bimodal mtd facies, 1 redundant mix, 5 facies-independent noise attributes shaped
  Student t, uniform, gamma, bimodal and ±1);
* anchor, same run: the naive scikit-learn loop — every subset × facies × K ∈ {1, 2} × the 4
  scikit-learn covariance types, ``GaussianMixture`` EM with its defaults — timed on a seeded
  sample of subsets (``--naive-per-n`` of each size) and extrapolated to all 511, once with
  scikit-learn's default threading and once pinned to one BLAS/OpenMP thread (faster on these
  small arrays, so the conservative anchor);
* large N: N = 16 (3 informative, 3 redundant, 10 non-Gaussian noise) with the automatic
  strategy (screening), and whether the planted subset is recovered.

The numba kernels are compiled (or loaded from the cache) by a small warm-up first; that
one-off cost is printed separately. Usage::

    python benches/attribute_selection.py
    python benches/attribute_selection.py --naive-per-n 2 --skip-large
"""

from __future__ import annotations

import argparse
import math
import os
import time
from itertools import combinations

import numpy as np


def _load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f} {five:.2f} {fifteen:.2f} on {os.cpu_count()} cores"


NOISE = ("t", "uniform", "gamma", "bimodal", "pm1")


def planted(n_per_facies: int, n_attributes: int, seed: int):
    """N = 9: 1 redundant + the 5 noise shapes; N = 16: 3 redundant + 10 noise (shapes cycled)."""
    from aaspi_py.selection.planted_shapes import SHAPES, planted_shapes_training_set

    n_redundant = 1 if n_attributes <= 9 else 3
    noise = [SHAPES[i % len(SHAPES)] for i in range(n_attributes - 3 - n_redundant)]
    return planted_shapes_training_set(n_per_facies, noise=noise, n_redundant=n_redundant, seed=seed)


def ours(n_per_facies: int, n_attributes: int, seed: int, **kw):
    from aaspi_py.selection.attribute_selection import select_attributes

    training, planted_subset = planted(n_per_facies, n_attributes, seed)
    t0, c0 = time.perf_counter(), time.process_time()
    result = select_attributes(training, seed=seed, **kw)
    result.cpu_seconds = time.process_time() - c0  # all threads of this process
    return time.perf_counter() - t0, result, planted_subset


def naive(n_per_facies: int, per_n: int, seed: int, blas_threads: int | None) -> tuple[float, float, int, int]:
    """Wall and CPU seconds of the naive loop extrapolated to every subset, subsets and fits timed.

    ``blas_threads``: None keeps scikit-learn's defaults (BLAS and OpenMP use every core);
    1 pins them to one thread, which is faster here on these small arrays.
    """
    from sklearn.mixture import GaussianMixture
    from threadpoolctl import threadpool_limits

    training, _ = planted(n_per_facies, 9, seed)
    z = (training.values - training.values.mean(0)) / training.values.std(0)
    rng = np.random.default_rng(seed)
    total, cpu, timed, fits = 0.0, 0.0, 0, 0
    limits = threadpool_limits(blas_threads)
    for n in range(1, 10):
        subsets = list(combinations(range(9), n))
        pick = rng.choice(len(subsets), min(per_n, len(subsets)), replace=False)
        seconds, cpus = [], []
        for i in pick:
            cols = list(subsets[i])
            t0, c0 = time.perf_counter(), time.process_time()
            for m in range(training.n_facies):
                x = z[training.facies_index == m][:, cols]
                for k in (1, 2):
                    for cov in ("full", "tied", "diag", "spherical"):
                        GaussianMixture(k, covariance_type=cov, random_state=0).fit(x)
                        fits += 1
            seconds.append(time.perf_counter() - t0)
            cpus.append(time.process_time() - c0)
            timed += 1
        total += np.mean(seconds) * math.comb(9, n)
        cpu += np.mean(cpus) * math.comb(9, n)
    limits.restore_original_limits()
    return total, cpu, timed, fits


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--voxels", type=int, default=5000, help="voxels per facies")
    ap.add_argument("--naive-per-n", type=int, default=3, help="subsets of each size timed for the anchor")
    ap.add_argument("--skip-large", action="store_true", help="skip the N = 16 run")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()

    print(f"attribute_selection benchmark; {_load()}")
    t0 = time.perf_counter()
    ours(200, 6, args.seed, sem_iterations=5)
    print(f"warm-up (numba kernels from the cache or compiled): {time.perf_counter() - t0:.1f} s")

    print(_load())
    seconds, result, planted9 = ours(args.voxels, 9, args.seed)
    c = result.counts
    print(f"ours, N = 9, M = 3, {args.voxels} voxels/facies, K <= 2, 9 models, SEM 200 -> CEM, "
          f"validation on: {seconds:.2f} s wall, {result.cpu_seconds:.2f} s CPU  ({c['fitted']} mixtures fitted, {c['pruned']} skipped by the "
          f"BIC bound, {c['degenerate']} degenerate)")
    print(f"    of which the recommendation: {result.recommendation.seconds:.2f} s "
          f"({result.recommendation.evaluated} attribute sets x 3 folds)")
    print(f"    recommended {result.recommended}  planted {sorted(planted9)}  "
          f"{'OK' if sorted(result.recommended) == sorted(planted9) else 'MISMATCH'}")
    print(f"    notes' best (argmax O_n): {result.best}")
    unpruned, res_u, _ = ours(args.voxels, 9, args.seed, bic_pruning=False)
    print(f"ours without BIC pruning (every model of every K fitted): {unpruned:.2f} s wall, "
          f"{res_u.cpu_seconds:.2f} s CPU; same recommendation: {res_u.recommended == result.recommended}, "
          f"same O_n answer: {res_u.best == result.best}")

    print(_load())
    for threads, label in ((None, "scikit-learn's default threads"), (1, "one BLAS/OpenMP thread")):
        print(_load())
        anchor, anchor_cpu, timed, fits = naive(args.voxels, args.naive_per_n, args.seed, threads)
        print(f"naive scikit-learn loop (511 subsets x 3 facies x K in {{1, 2}} x 4 covariance types, EM, "
              f"{label}): {anchor:.0f} s wall, {anchor_cpu:.0f} s CPU, extrapolated from {timed} "
              f"subsets ({fits} fits)")
        print(f"    ratio naive / ours: {anchor / seconds:.0f}x wall, {anchor_cpu / result.cpu_seconds:.0f}x CPU   "
              f"(ours without pruning: {anchor / unpruned:.0f}x wall, {anchor_cpu / res_u.cpu_seconds:.0f}x CPU)")

    if not args.skip_large:
        print(_load())
        seconds16, res16, planted16 = ours(args.voxels, 16, args.seed)
        ok = sorted(res16.recommended) == sorted(planted16)
        print(f"ours, N = 16 ({res16.strategy}): {seconds16:.1f} s wall, {res16.cpu_seconds:.1f} s CPU; "
              f"{res16.strategy_detail}")
        print(f"    recommended {res16.recommended}  planted {sorted(planted16)}  {'OK' if ok else 'MISMATCH'}")
    print(_load())


if __name__ == "__main__":
    main()
