"""Peak memory of every volume module at growing volume sizes, each run in a fresh process.

SPEC §6: memory is bounded whatever the volume size; the peak RSS of a module at 384³ must
be within 1.3x of its peak at 128³. For each size the parent writes a project of three
float32 attribute volumes (chunk by chunk, ``benches/_work/memory``, deleted afterwards),
a text training file of 600 voxels spread over the volume, facies polygons and a SEG-Y
export of one volume, then runs each module in a child process (``aaspi_py.run`` with the
default ``threads`` scheduler) that reports its own peak RSS (VmHWM) and the run's memory
model: kuwahara3d the one it checks before computing
(:func:`aaspi_py.filters.kuwahara3d_steps.memory_needed`); define_training_data and rfc3d's
read of its training file :func:`aaspi_py.training.training_memory.training_memory` for the
training voxels they found; the others :func:`aaspi_py.framework.volume_store.memory_model`.

Training sets are measured twice: polygons of a fixed size on inline, crossline and time
slices (``define_training_data``: the same 9 778 voxels at every size, so the peak must not
grow) and one polygon covering a whole inline (``define_training_data-inline``: the voxels,
and so the memory, grow with n_crossline x n_sample, as they must). ``rfc3d-training-file``
is rfc3d's read of its text training file alone (training and prediction are in ``rfc3d``).

Run: ``.venv/bin/python benches/memory.py [--sizes 128,256,384] [--modules kuwahara3d,...]``
(``--sizes 600x600x400`` for the large check of ``make test-slow``).
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

sys.path.insert(0, str(Path(__file__).resolve().parent))

WORK = Path(os.environ.get("AASPI_MEMORY_WORK", str(Path(__file__).resolve().parent / "_work" / "memory")))
ATTRS = ("a1", "a2", "a3")
#: facies of the fixed-size polygons (each on an inline, a crossline and a time slice)
FACIES = ("f1", "f2", "f3")

#: module runs: name -> (module id, parameters)
RUNS = {
    "kuwahara3d": ("kuwahara3d", {"inputs": ["a1"]}),
    "kuwahara3d-joint": ("kuwahara3d", {"inputs": list(ATTRS), "selection": "joint"}),
    "kuwahara3d-guide": ("kuwahara3d", {"inputs": ["a1", "a2"], "selection": "guide", "guide": "a3"}),
    "gtm3d": ("gtm3d", {"inputs": list(ATTRS), "latent_grid": [8, 8], "rbf_grid": [3, 3], "max_iter": 5,
                        "sample_size": 5000}),
    "rfc3d": ("rfc3d", {"attributes": list(ATTRS), "training_file": "training/memory.txt", "n_trees": 10,
                        "tree_counts": [10], "cv_folds": 2, "permutation_repeats": 0, "probabilities": True}),
    "segy_export": ("segy_export", {"volume": "a1"}),
    "segy_import": ("segy_import", {"src": "memory.sgy", "volume": "imported"}),
    # polygons of a fixed size: the training voxels stay the same while the volume grows
    "define_training_data": ("define_training_data", {"facies": list(FACIES), "attributes": list(ATTRS),
                                                      "name": "fixed"}),
    # one polygon over a whole inline: the training voxels grow with the survey (n_crossline x n_sample)
    "define_training_data-inline": ("define_training_data", {"facies": ["whole_inline"],
                                                             "attributes": list(ATTRS), "name": "inline"}),
    # rfc3d's read of its text training file alone (600 voxels spread over the whole volume)
    "rfc3d-training-file": ("rfc3d-training-file", {"attributes": list(ATTRS),
                                                    "training_file": "training/memory.txt"}),
}


def _block(j: int, block_info=None) -> np.ndarray:
    """Layered attribute j of one chunk: three facies in layers plus noise."""
    (i0, i1), (x0, x1), (k0, k1) = block_info[None]["array-location"]
    k = np.arange(k0, k1)[None, None, :] + 0.1 * np.arange(i0, i1)[:, None, None] + 0.05 * np.arange(x0, x1)[None, :, None]
    layers = (k // 24).astype(int) % 3
    rng = np.random.default_rng([j, i0, x0, k0])
    return (np.array([0.0, 1.5, -1.0])[(layers + j) % 3] + 0.3 * rng.standard_normal(layers.shape)).astype(np.float32)


def make_project(shape: tuple[int, int, int]) -> Path:
    import dask.array as da

    import aaspi_py

    root = WORK / "x".join(map(str, shape))
    shutil.rmtree(root, ignore_errors=True)
    project = aaspi_py.Project.create(root, "mem")
    for j, name in enumerate(ATTRS):
        data = da.map_blocks(_block, j, chunks=da.core.normalize_chunks((64, 64, 128), shape), dtype=np.float32)
        aaspi_py.save_volume(data, project.volumes_dir / f"{name}.zarr", sample=np.arange(shape[2]) * 4.0)
    rng = np.random.default_rng(0)
    rows = ["# inline crossline sample class"]
    for _ in range(600):
        i, x, k = (int(rng.integers(0, n)) for n in shape)
        kk = k + 0.1 * i + 0.05 * x
        rows.append(f"{i} {x} {k * 4.0:g} {int(kk // 24) % 3 + 1}")
    (root / "training").mkdir(exist_ok=True)
    (root / "training" / "memory.txt").write_text("\n".join(rows) + "\n", encoding="utf-8")
    make_polygons(project, shape)
    aaspi_py.export_segy(project.volumes_dir / "a1.zarr", root / "memory.sgy")  # for segy_import
    return root


def make_polygons(project, shape: tuple[int, int, int]) -> None:
    """Three facies of three polygons each (an inline, a crossline and a time slice), the same
    size at every volume size (about 3 x 1 100 voxels a facies), and one facies whose single
    polygon covers a whole inline."""
    from aaspi_py.training import polygons as P

    for m, facies in enumerate(FACIES):
        c = 20 + 30 * m  # line numbers start at 0; every polygon fits in the 128^3 volume
        box = [(c, 4.0 * c), (c + 32, 4.0 * c), (c + 32, 4.0 * (c + 32)), (c, 4.0 * (c + 32))]
        P.save_polygon_to_new_file(project, "inline", c + 5, box, facies=facies, overwrite=True)
        P.add_polygon(project, facies, "crossline", c + 40, box)
        P.add_polygon(project, facies, "sample", 4.0 * (c + 10),
                      [(c, 10), (c + 32, 10), (c + 32, 42), (c, 42)])
    ni, nx, ns = shape
    P.save_polygon_to_new_file(project, "inline", ni // 2, [(0, 0.0), (nx - 1, 0.0), (nx - 1, 4.0 * (ns - 1)),
                                                         (0, 4.0 * (ns - 1))], facies="whole_inline",
                               overwrite=True)


def read_training_file(root: Path, params: dict) -> list:
    """rfc3d's read of its training file and the attribute values at its voxels, nothing else."""
    import aaspi_py
    from aaspi_py.training.voxels import read_training_voxels

    datasets = [aaspi_py.open_volume(root / "volumes" / f"{a}.zarr") for a in params["attributes"]]
    tv = read_training_voxels(root / params["training_file"], None, datasets, list(params["attributes"]))
    return [tv]


def _model(module: str, params: dict, shape, chunks, n_voxels: int) -> int:
    """The memory model the module checks before computing (kuwahara3d, training sets), or
    the blockwise one."""
    if module == "kuwahara3d":
        from aaspi_py.filters.kuwahara3d_steps import memory_needed

        return memory_needed(shape, len(params["inputs"]), (3, 3, 3), params.get("selection", "each"), chunks)
    if module in ("define_training_data", "rfc3d-training-file"):
        from aaspi_py.training import training_memory as tm

        per_voxel = tm.EXTRACT_BYTES if module == "define_training_data" else tm.TEXT_FILE_BYTES
        return tm.training_memory(n_voxels, len(params["attributes"]), chunks, per_voxel=per_voxel)
    from aaspi_py.framework.volume_store import memory_model

    return memory_model(shape, len(params.get("inputs", params.get("attributes", ["a1"]))))


def child(run: str, root: Path) -> dict:
    from _memory import peak_rss_bytes

    import aaspi_py

    module, params = RUNS[run]
    import aaspi_py.framework.registry  # noqa: F401 - imports outside the figure
    from aaspi_py.filters.kuwahara import kuwahara

    kuwahara(np.zeros((8, 8, 8), np.float32))  # numba caches loaded
    base = peak_rss_bytes()
    t0 = time.perf_counter()
    if module == "rfc3d-training-file":
        outputs = read_training_file(root, params)
        n_voxels = len(outputs[0])
    else:
        res = aaspi_py.run(module, root, overwrite=True, **params)
        outputs, n_voxels = res.outputs, int(res.report.get("voxels", 0))
    seconds = time.perf_counter() - t0
    data = aaspi_py.open_volume(root / "volumes" / "a1.zarr")["data"].data
    return {"run": run, "shape": list(data.shape), "seconds": seconds, "outputs": len(outputs),
            "base_mb": base / 2**20, "peak_mb": peak_rss_bytes() / 2**20,
            "model_mb": _model(module, params, data.shape, data.chunksize, n_voxels) / 2**20,
            "voxels": n_voxels,
            "load": os.getloadavg()[0]}


def run_child(run: str, root: Path) -> dict:
    out = subprocess.run([sys.executable, __file__, "--child", run, "--root", str(root)],
                         capture_output=True, text=True, check=False)
    if out.returncode != 0:
        raise RuntimeError(f"{run} at {root.name} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="128,256,384", help="cube edges or NIxNXxNS shapes, comma separated")
    ap.add_argument("--modules", default=",".join(RUNS))
    ap.add_argument("--child")
    ap.add_argument("--root")
    args = ap.parse_args()
    if args.child:
        print(json.dumps(child(args.child, Path(args.root))))
        return
    shapes = [tuple(int(v) for v in s.split("x")) if "x" in s else (int(s),) * 3 for s in args.sizes.split(",")]
    runs = args.modules.split(",")
    table: dict[str, list[dict]] = {r: [] for r in runs}
    print(f"peak RSS per module run (fresh process, threads scheduler, {os.cpu_count()} cores); "
          f"load average {os.getloadavg()[0]:.1f} at start; /proc/loadavg: "
          f"{Path('/proc/loadavg').read_text().strip()}", flush=True)
    try:
        for shape in shapes:
            root = make_project(shape)
            for r in runs:
                row = run_child(r, root)
                table[r].append(row)
                print(f"  {r:<18s} {'x'.join(map(str, shape)):>12s}: peak {row['peak_mb']:6.0f} MB "
                      f"(after imports {row['base_mb']:.0f} MB, model {row['model_mb']:.0f} MB"
                      + (f" for {row['voxels']} training voxels" if row["voxels"] else " of blocks in flight")
                      + "), "
                      f"{row['seconds']:.1f} s, load {row['load']:.1f}", flush=True)
            shutil.rmtree(root, ignore_errors=True)
    finally:
        shutil.rmtree(WORK, ignore_errors=True)
    if len(shapes) > 1:
        print(f"largest / smallest peak ({'x'.join(map(str, shapes[-1]))} / {'x'.join(map(str, shapes[0]))}), "
              "limit 1.3:")
        for r, rows in table.items():
            ratio = rows[-1]["peak_mb"] / rows[0]["peak_mb"]
            print(f"  {r:<18s} {ratio:5.2f}  {'ok' if ratio <= 1.3 else 'OVER'}")


if __name__ == "__main__":
    main()
