"""Attribute speed and memory: each family through the ``attributes`` module on a zarr volume,
beside a plain numpy/scipy version of the same formulas measured in the same run.

For every attribute family present, on an n^3 float32 zarr volume (default 256^3: layered
reflectivity, a fault-like offset and noise), each in a fresh process:
* module: the ``attributes`` module run (read zarr, compute every attribute of the family,
  write one zarr volume each): wall time, CPU time, voxels per second, peak RSS;
* kernel: the family's own function called once on the whole volume in memory;
* plain: the same formulas as a user scripts them with whole-array numpy/scipy calls
  (``benches/_plain_attributes.py``: ``scipy.signal.hilbert``, ``scipy.ndimage`` box filters,
  ``numpy.fft`` on sliding windows, ``numpy.linalg.eigvalsh`` per voxel, one box sum per
  grey-level pair for the GLCM) on the volume in memory. Eigenstructure coherence and the
  GLCM counts are timed on ``--subset`` inlines and scaled to the volume (marked "scaled");
  everything else runs on the whole volume. The largest difference between the plain values
  and the module's output volumes is printed per attribute (relative to the attribute's
  largest value), so both compute the same thing.
Kernel and plain exclude reading and writing; the module includes them. Imports and the
loading of compiled kernels happen before timing in every child (printed as "warm-up").
CPU seconds are printed beside wall seconds because the machine may be shared; so is
/proc/loadavg at the start and end.
Then (unless --no-scaling) the memory scaling: peak RSS of the module at 128^3 and 384^3.

Run: ``.venv/bin/python benches/attributes.py [--size 256] [--families complex_trace,...] [--no-scaling]``
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

HERE = Path(__file__).resolve().parent
WORK = HERE / "_work" / "attributes"


# ---------------------------------------------------------------- children (fresh processes)

def make_volume(n: int, root: Path) -> None:
    """An n^3 amplitude volume written block by block (the parent never holds it)."""
    import dask.array as da
    import numpy as np

    import aaspi_py

    def block(block_info=None):
        (i0, i1), (j0, j1), (k0, k1) = block_info[None]["array-location"]
        i, j, k = np.meshgrid(np.arange(i0, i1), np.arange(j0, j1), np.arange(k0, k1), indexing="ij")
        rng = np.random.default_rng(i0 * 7919 + j0)
        depth = k - 0.1 * i - 0.05 * j + 6.0 * (i > n // 2)  # dipping layers and a fault
        return (np.sin(2 * np.pi * depth / 11.0) * (1 + 0.3 * np.sin(depth / 37.0))
                + 0.2 * rng.standard_normal(depth.shape)).astype(np.float32)

    x = da.map_blocks(block, chunks=((64,) * (n // 64) + ((n % 64,) if n % 64 else ()),) * 3, dtype=np.float32)
    project = aaspi_py.Project.create(root, "bench")
    aaspi_py.save_volume(x, project.volumes_dir / "amplitude.zarr", kind="amplitude")


def warm_up(families: list[str]) -> float:
    """Import the families and load their compiled kernels (a call on a tiny block): seconds."""
    import numpy as np

    from aaspi_py import attributes

    t = time.perf_counter()
    tiny = np.random.default_rng(0).standard_normal((12, 12, 64)).astype(np.float32)
    for family in families:
        fam = attributes.FAMILIES[family]
        fam.compute(tiny, list(fam.names), sample_interval=4.0, **dict(fam.options))
    return time.perf_counter() - t


def timed(fn, *args, **kwargs):
    """(result, wall seconds, CPU seconds of the whole process, every thread)."""
    t, c = time.perf_counter(), time.process_time()
    out = fn(*args, **kwargs)
    return out, time.perf_counter() - t, time.process_time() - c


def run_module(root: Path, names: list[str]) -> dict:
    from _memory import peak_rss_bytes

    import aaspi_py
    import aaspi_py.framework.runner  # noqa: F401  (imports before timing)
    from aaspi_py import attributes

    for old in (root / "volumes").glob("attributes_*"):  # outputs of an earlier run: not part of the timing
        shutil.rmtree(old)
    warm = warm_up(sorted({attributes.family_of(n) for n in names}))
    base = peak_rss_bytes()
    _, seconds, cpu = timed(aaspi_py.run, "attributes", root, volume="amplitude", attributes=",".join(names),
                            overwrite=True)
    return {"seconds": seconds, "cpu": cpu, "rss": peak_rss_bytes(), "rss_imports": base, "warmup": warm}


def load(root: Path):
    """The amplitude volume in memory and its sample interval (ms)."""
    import numpy as np

    from aaspi_py import open_volume

    ds = open_volume(root / "volumes" / "amplitude.zarr")
    return np.asarray(ds["data"].values), float(np.diff(ds["sample"].values[:2])[0])


def run_kernel(root: Path, family: str) -> dict:
    """The family's own function on the whole volume in memory (no halo, no blocks)."""
    from _memory import peak_rss_bytes

    from aaspi_py import attributes

    warm = warm_up([family])
    x, dt = load(root)
    base = peak_rss_bytes()
    fam = attributes.FAMILIES[family]
    _, seconds, cpu = timed(fam.compute, x, list(fam.names), sample_interval=dt, **dict(fam.options))
    return {"seconds": seconds, "cpu": cpu, "rss": peak_rss_bytes(), "rss_loaded": base, "warmup": warm}


def run_plain(root: Path, family: str, subset: int) -> dict:
    """The plain numpy/scipy version; parts timed on ``subset`` inlines are scaled to the volume."""
    import tempfile

    import _plain_attributes as plain
    import numpy as np
    from _memory import peak_rss_bytes

    import aaspi_py
    from aaspi_py import attributes, open_volume

    (x, dt), read_s, read_cpu = timed(load, root)
    n = x.shape[0]
    opts = dict(attributes.FAMILIES[family].options)
    base = peak_rss_bytes()
    rows = slice((n - subset) // 2, (n - subset) // 2 + subset)  # a subset in the middle of the survey
    scale = n / subset
    region = slice(None)
    if family == "complex_trace":
        out, seconds, cpu = timed(plain.complex_trace, x, dt, opts["trace_window"])
        note = "whole volume"
    elif family == "geometric":
        out, seconds, cpu = timed(plain.geometric, x, **opts)
        note = "whole volume"
    elif family == "coherence":
        windows = {k: opts[k] for k in ("coherence_traces", "coherence_samples")}
        sem, s1, c1 = timed(plain.semblance, x, **windows)
        eig, s2, c2 = timed(plain.eigenstructure_coherence, x, **windows, inlines=rows)
        out = {"semblance": sem[rows], "eigenstructure_coherence": eig}
        seconds, cpu = s1 + s2 * scale, c1 + c2 * scale
        region = rows
        note = f"semblance whole volume {s1:.1f} s; eigvalsh on {subset} inlines {s2:.1f} s, scaled x{scale:g}"
    elif family == "spectral":
        out, seconds, cpu = timed(plain.spectral, x, dt, opts["spectral_window"], opts["spectral_nfft"])
        note = "whole volume, 8 inlines per FFT call"
    else:
        glcm = {k: opts[k] for k in ("glcm_levels", "glcm_traces", "glcm_samples", "glcm_rms_samples")}
        grey, s1, c1 = timed(plain.grey_levels, x, opts["glcm_levels"], opts["glcm_traces"], opts["glcm_rms_samples"])
        out, s2, c2 = timed(plain.texture, x, **glcm, inlines=rows, grey=grey)
        seconds, cpu = s1 + s2 * scale, c1 + c2 * scale
        region = rows
        note = f"grey levels whole volume {s1:.1f} s; GLCM box sums on {subset} inlines {s2:.1f} s, scaled x{scale:g}"
    rss = peak_rss_bytes()
    # a script that feeds the workflow also writes its outputs: each as a float32 zarr volume
    # with the amplitude's geometry (aaspi_py.save_volume, the compression every volume has)
    like = root / "volumes" / "amplitude.zarr"
    write_s = write_cpu = 0.0
    with tempfile.TemporaryDirectory(dir=root) as tmp:
        for name, value in out.items():
            # an output known on a subset of inlines is written at full size (the subset repeated)
            full = value if value.shape[0] == n else np.resize(value, x.shape)
            _, s_, c_ = timed(aaspi_py.save_volume, full.astype(np.float32), Path(tmp) / f"{name}.zarr", like=like,
                              kind="attribute")
            write_s += s_
            write_cpu += c_
    differences = {}
    for name, value in out.items():
        [path] = (root / "volumes").glob(f"attributes_{name}_*.zarr")
        module = open_volume(path)["data"].values[region]
        top = float(np.abs(module).max()) or 1.0
        diff = np.abs(module - value)
        differences[name] = [float(diff.max()) / top, float(np.mean(diff > 1e-4 * top))]
    return {"seconds": seconds, "cpu": cpu, "rss": rss, "rss_loaded": base, "note": note,
            "io_seconds": read_s + write_s, "io_cpu": read_cpu + write_cpu, "differences": differences}


def child(args: list[str]) -> dict:
    out = subprocess.run([sys.executable, __file__, "--child", json.dumps(args)], capture_output=True,
                         text=True, cwd=HERE)
    if out.returncode:
        raise SystemExit(f"child {args} failed:\n{out.stderr}")
    return json.loads(out.stdout.strip().splitlines()[-1])


# ---------------------------------------------------------------- parent

def volume(n: int) -> Path:
    root = WORK / f"n{n}"
    if not (root / "volumes" / "amplitude.zarr").exists():
        shutil.rmtree(root, ignore_errors=True)
        child(["make", n, str(root)])
    return root


def loadavg() -> str:
    return Path("/proc/loadavg").read_text().strip()


def main() -> None:
    from aaspi_py import attributes

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", type=int, default=256)
    ap.add_argument("--families", default=",".join(attributes.FAMILIES))
    ap.add_argument("--subset", type=int, default=16,
                    help="inlines the per-voxel plain parts (eigvalsh, GLCM box sums) are timed on, then scaled")
    ap.add_argument("--no-scaling", action="store_true", help="skip the 128^3 / 384^3 memory runs")
    args = ap.parse_args()
    families = [f for f in args.families.split(",") if f]
    n = args.size
    root = volume(n)
    mvox = n**3 / 1e6
    print(f"attributes benchmark: {n}^3 float32 zarr ({mvox:.1f} Mvoxel), chunks 64x64x128; {os.cpu_count()} cores; "
          f"/proc/loadavg at start: {loadavg()}")
    print("  module = read + compute + write through the attributes module; kernel = the family function on the "
          "volume in memory;\n  plain = numpy/scipy whole-array formulas on the volume in memory "
          "(benches/_plain_attributes.py); +io = plain plus reading the volume and writing its outputs "
          "(aaspi_py.save_volume);\n  times are wall / CPU seconds, ratios plain time over module (or kernel) time")
    print(f"  {'family':<14s} {'n':>2s} {'module':>15s} {'Mvox/s':>6s} {'RSS':>7s} {'kernel':>15s} "
          f"{'plain':>17s} {'RSS':>7s} {'plain+io':>15s}  {'plain/module':>13s} {'+io/module':>13s} "
          f"{'plain/kernel':>13s} load")
    rows = []
    for family in families:
        names = list(attributes.FAMILIES[family].names)
        m = child(["module", str(root), names])
        k = child(["kernel", str(root), family])
        p = child(["plain", str(root), family, args.subset])
        load1 = os.getloadavg()[0]
        rows.append((family, m, k, p))
        scaled = "*" if "scaled" in p["note"] else " "
        io_s, io_c = p["seconds"] + p["io_seconds"], p["cpu"] + p["io_cpu"]
        print(f"  {family:<14s} {len(names):2d} {m['seconds']:6.1f} /{m['cpu']:6.1f} s {mvox / m['seconds']:6.2f} "
              f"{m['rss'] / 1e6:4.0f} MB {k['seconds']:6.1f} /{k['cpu']:6.1f} s "
              f"{p['seconds']:7.1f} /{p['cpu']:6.1f}{scaled}s {p['rss'] / 1e6:4.0f} MB {io_s:6.1f} /{io_c:6.1f} s  "
              f"{p['seconds'] / m['seconds']:5.1f}x /{p['cpu'] / m['cpu']:5.1f}x "
              f"{io_s / m['seconds']:5.1f}x /{io_c / m['cpu']:5.1f}x "
              f"{p['seconds'] / k['seconds']:5.1f}x /{p['cpu'] / k['cpu']:5.1f}x {load1:4.1f}", flush=True)
    print("  (* plain parts timed on a subset of inlines and scaled; warm-up = imports and compiled-kernel loading, "
          "not timed)")
    for family, m, k, p in rows:
        io_s, io_c = p["seconds"] + p["io_seconds"], p["cpu"] + p["io_cpu"]
        verdict = ", ".join(f"{what} {'met' if ratio >= 2 else 'NOT met'} ({ratio:.1f}x)" for what, ratio in (
            ("wall", p["seconds"] / m["seconds"]), ("CPU", p["cpu"] / m["cpu"]),
            ("wall with io", io_s / m["seconds"]), ("CPU with io", io_c / m["cpu"])))
        print(f"  {family}: plain {p['note']}; warm-up module {m['warmup']:.1f} s, kernel {k['warmup']:.1f} s; "
              f"target module >= 2x plain: {verdict}")
        diffs = ", ".join(f"{name} {d[0]:.1e}" + (f" ({d[1]:.1e} of voxels > 1e-4)" if d[1] else "")
                          for name, d in p["differences"].items())
        print(f"    plain - module, max |difference| / max |module value|: {diffs}")
    if not args.no_scaling:
        print("memory scaling, every family's attributes per run, each in a fresh process:")
        for family in families:
            names = list(attributes.FAMILIES[family].names)
            rss = {}
            for size in (128, 384):
                r = child(["module", str(volume(size)), names])
                rss[size] = r
            ratio = rss[384]["rss"] / rss[128]["rss"]
            print(f"  {family:<15s} peak RSS 128^3 {rss[128]['rss'] / 1e6:.0f} MB, 384^3 {rss[384]['rss'] / 1e6:.0f} MB "
                  f"(after imports {rss[128]['rss_imports'] / 1e6:.0f} / {rss[384]['rss_imports'] / 1e6:.0f} MB): "
                  f"ratio {ratio:.2f} ({'met' if ratio <= 1.3 else 'NOT met'}; 384^3 at "
                  f"{384**3 / rss[384]['seconds'] / 1e6:.2f} Mvox/s)", flush=True)
    print(f"/proc/loadavg at the end: {loadavg()}")


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == "--child":
        sys.path.insert(0, str(HERE))
        kind, *rest = json.loads(sys.argv[2])
        if kind == "make":
            make_volume(int(rest[0]), Path(rest[1]))
            print("{}")
        elif kind == "module":
            print(json.dumps(run_module(Path(rest[0]), rest[1])))
        elif kind == "kernel":
            print(json.dumps(run_kernel(Path(rest[0]), rest[1])))
        else:
            print(json.dumps(run_plain(Path(rest[0]), rest[1], int(rest[2]))))
    else:
        main()
