"""Attribute speed and memory: each family through the ``attributes`` module on a zarr volume.

For every attribute family present, on an n^3 float32 zarr volume (default 256^3: layered
reflectivity, a fault-like offset and noise):
* the module run (read zarr, compute every attribute of the family, write one zarr volume
  each), in a fresh process: wall time, voxels per second, peak RSS;
* beside it, in the same run, a plain whole-array version of the same formulas on the whole
  volume loaded in memory (float64 numpy/scipy for the complex trace, as one writes it in a
  script; for the other families their own formulas called once on the whole array), also
  in a fresh process, reading excluded.
Then the memory scaling: peak RSS of the module at 128^3 and 384^3, each in a fresh process.

Run: ``.venv/bin/python benches/attributes.py [--size 256] [--families complex_trace,...]``
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


def run_module(root: Path, names: list[str]) -> dict:
    from _memory import peak_rss_bytes

    import aaspi_py

    for old in (root / "volumes").glob("attributes_*"):  # outputs of an earlier run: not part of the timing
        shutil.rmtree(old)
    base = peak_rss_bytes()
    t, c = time.perf_counter(), time.process_time()
    aaspi_py.run("attributes", root, volume="amplitude", attributes=",".join(names), overwrite=True)
    return {"seconds": time.perf_counter() - t, "cpu": time.process_time() - c, "rss": peak_rss_bytes(),
            "rss_imports": base}


def plain_complex_trace(x, dt_s: float = 0.004, w: int = 9) -> list:
    """The complex-trace formulas on the whole array, float64, as a plain script does."""
    import numpy as np
    from scipy import ndimage, signal

    z = signal.hilbert(x.astype(np.float64), axis=-1)
    env = np.abs(z)
    phase = np.angle(z)
    cos_phase = np.cos(phase)
    power = env**2
    freq = np.gradient(np.unwrap(phase, axis=-1), dt_s, axis=-1) / (2 * np.pi)
    freq = ndimage.uniform_filter1d(freq * power, w, axis=-1) / np.maximum(ndimage.uniform_filter1d(power, w, axis=-1), 1e-30)
    bw = np.abs(np.gradient(np.log(np.maximum(env, 1e-30)), dt_s, axis=-1)) / (2 * np.pi)
    bw = ndimage.uniform_filter1d(bw * power, w, axis=-1) / np.maximum(ndimage.uniform_filter1d(power, w, axis=-1), 1e-30)
    sweet = env / np.sqrt(np.maximum(freq, 1.0))
    rms = np.sqrt(ndimage.uniform_filter1d(x.astype(np.float64) ** 2, w, axis=-1))
    return [env, np.degrees(phase), cos_phase, freq, bw, sweet, rms]


def run_plain(root: Path, family: str) -> dict:
    import numpy as np
    from _memory import peak_rss_bytes

    from aaspi_py import attributes, open_volume

    x = np.asarray(open_volume(root / "volumes" / "amplitude.zarr")["data"].values)
    base = peak_rss_bytes()
    fam = attributes.FAMILIES[family]
    t, c = time.perf_counter(), time.process_time()
    if family == "complex_trace":
        plain_complex_trace(x)
    else:
        fam.compute(x, list(fam.names), sample_interval=4.0, **dict(fam.options))
    return {"seconds": time.perf_counter() - t, "cpu": time.process_time() - c, "rss": peak_rss_bytes(),
            "rss_loaded": base}


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


def main() -> None:
    from aaspi_py import attributes

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", type=int, default=256)
    ap.add_argument("--families", default=",".join(attributes.FAMILIES))
    ap.add_argument("--no-scaling", action="store_true", help="skip the 128^3 / 384^3 memory runs")
    args = ap.parse_args()
    families = [f for f in args.families.split(",") if f]
    n = args.size
    load0 = os.getloadavg()
    root = volume(n)
    print(f"attributes benchmark: {n}^3 float32 zarr ({n**3 / 1e6:.1f} Mvoxel), chunks 64x64x128; "
          f"{os.cpu_count()} cores; load average {load0[0]:.1f} at start; /proc/loadavg: "
          f"{Path('/proc/loadavg').read_text().strip()}")
    print(f"  {'family':<15s} {'attributes':>10s} {'module':>9s} {'CPU':>7s} {'Mvox/s':>7s} {'peak RSS':>9s}   "
          f"{'plain':>9s} {'CPU':>7s} {'Mvox/s':>7s} {'peak RSS':>9s}   {'speed-up':>8s} {'per CPU-s':>9s}")
    for family in families:
        names = list(attributes.FAMILIES[family].names)
        m = child(["module", str(root), names])
        p = child(["plain", str(root), family])
        print(f"  {family:<15s} {len(names):10d} {m['seconds']:7.1f} s {m['cpu']:5.1f} s {n**3 / m['seconds'] / 1e6:7.2f} "
              f"{m['rss'] / 1e6:6.0f} MB   {p['seconds']:7.1f} s {p['cpu']:5.1f} s {n**3 / p['seconds'] / 1e6:7.2f} "
              f"{p['rss'] / 1e6:6.0f} MB   {p['seconds'] / m['seconds']:7.2f}x {p['cpu'] / m['cpu']:8.2f}x",
              flush=True)
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
    print(f"load average at the end: {os.getloadavg()[0]:.1f}; /proc/loadavg: {Path('/proc/loadavg').read_text().strip()}")


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == "--child":
        sys.path.insert(0, str(HERE))
        kind, *rest = json.loads(sys.argv[2])
        if kind == "make":
            make_volume(int(rest[0]), Path(rest[1]))
            print("{}")
        elif kind == "module":
            print(json.dumps(run_module(Path(rest[0]), rest[1])))
        else:
            print(json.dumps(run_plain(Path(rest[0]), rest[1])))
    else:
        main()
