"""SEG-Y ingestion: import_segy throughput and peak memory against two anchors, same file, same run.

A survey of 400 x 400 traces x 3500 samples (2.28 GB) is written as SEG-Y with IEEE float
samples (format 5, big-endian, the common modern case), then each step runs in its own
subprocess so its peak RSS is its own:

- ``raw``    numpy.fromfile over the file in 64 MB blocks (the I/O anchor: nothing decoded);
- ``copy``   the same reads, each block written to a file next to the volume (the floor of
  any import: the bytes read once and written once, nothing decoded);
- ``import`` aaspi_py.segy_io.import_segy to a zarr volume (headers scanned, traces decoded,
  written with the default chunks and codecs);
- ``segyio`` segyio.tools.cube, which loads the whole cube (peak RSS ~ file size).

Each step runs **cold** (dirty pages flushed and the SEG-Y dropped from the page cache with
posix_fadvise before the step, as for a survey larger than RAM) and **warm** (the SEG-Y
already cached), ``--repeat`` times each (default 3): the best time is reported, as timeit
does, because other work on the machine only ever adds time. Figures: MB/s (file bytes /
wall seconds), peak RSS (the largest of the repeats), and the ratio of import to raw read.
The time the kernel then needs to flush the imported volume to disk is printed too (import
returns when the data is in the page cache).

    python benches/segy_ingest.py [--inlines 400 --crosslines 400 --samples 3500]
                                  [--work benches/_work] [--keep] [--steps raw,import,segyio]

Generated files go to benches/_work/ (git-ignored) and are deleted at the end.
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

HERE = Path(__file__).resolve().parent


# ---------------------------------------------------------------- the test file

def write_segy(path: Path, ni: int, nx: int, ns: int, seed: int = 0) -> None:
    """Seismic-like traces (band-limited reflectivity shifted along dip, plus noise), one
    inline at a time with numpy record arrays (240-byte header + big-endian float32)."""
    rng = np.random.default_rng(seed)
    record = np.dtype([("header", np.uint8, (240,)), ("samples", ">f4", (ns,))])
    text = "".join(f"C{i + 1:2d} aaspi_py benches/segy_ingest.py synthetic survey".ljust(80) for i in range(40))
    binary = bytearray(400)
    binary[16:18] = (4000).to_bytes(2, "big")  # 4 ms
    binary[20:22] = ns.to_bytes(2, "big")
    binary[24:26] = (5).to_bytes(2, "big")  # IEEE float
    binary[300], binary[302:304] = 1, (1).to_bytes(2, "big")
    reflectivity = np.convolve(rng.standard_normal(ns + 64), np.hanning(9), "same")[:ns].astype(np.float32)

    def field(recs, byte, values, size=4):
        vals = np.broadcast_to(np.asarray(values, dtype=np.int64).astype(f">i{size}"), recs.shape)
        recs["header"][:, byte - 1: byte - 1 + size] = np.ascontiguousarray(vals).view(np.uint8).reshape(-1, size)

    with open(path, "wb") as f:
        f.write(text.encode("cp037") + bytes(binary))
        xl = np.arange(1, nx + 1)
        for i in range(ni):
            recs = np.zeros(nx, record)
            field(recs, 189, i + 1)
            field(recs, 193, xl)
            field(recs, 181, 250_000 + 2500 * (i + 1))
            field(recs, 185, 6_000_000 + 2500 * xl)
            field(recs, 71, -100, 2)
            field(recs, 115, ns, 2)
            field(recs, 117, 4000, 2)
            shifts = (xl // 7 + i // 5) % 64
            traces = np.stack([np.roll(reflectivity, s) for s in shifts])
            recs["samples"] = traces + 0.05 * rng.standard_normal((nx, ns), dtype=np.float32)
            recs.tofile(f)


# ---------------------------------------------------------------- steps (run in subprocesses)

def _step_raw(path: Path, out: Path) -> None:
    total = 0
    with open(path, "rb") as f:
        while True:
            block = np.fromfile(f, dtype=np.uint8, count=64 << 20)
            if block.size == 0:
                break
            total += block.size
    assert total == path.stat().st_size


def _step_copy(path: Path, out: Path) -> None:
    out.mkdir(parents=True)
    with open(path, "rb") as f, open(out / "copy.bin", "wb") as g:
        while True:
            block = np.fromfile(f, dtype=np.uint8, count=64 << 20)
            if block.size == 0:
                break
            block.tofile(g)


def _step_import(path: Path, out: Path) -> None:
    from aaspi_py.segy_io import import_segy

    import_segy(path, out)


def _step_segyio(path: Path, out: Path) -> None:
    import segyio

    with segyio.open(path) as f:
        cube = segyio.tools.cube(f)
    assert cube.size


STEPS = {"raw": _step_raw, "copy": _step_copy, "import": _step_import, "segyio": _step_segyio}


def _run_step(name: str, path: Path, out: Path) -> None:
    t0 = time.perf_counter()
    STEPS[name](path, out)
    seconds = time.perf_counter() - t0
    peak = peak_rss_bytes()
    print(json.dumps({"seconds": seconds, "peak_rss": peak}))


# ---------------------------------------------------------------- driver

def _drop_from_cache(path: Path) -> None:
    os.sync()
    fd = os.open(path, os.O_RDONLY)
    try:
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
    finally:
        os.close(fd)


def _measure_once(name: str, path: Path, out: Path, cold: bool) -> dict:
    shutil.rmtree(out, ignore_errors=True)
    os.sync()
    time.sleep(1.0)  # let the discards of the removed volume settle
    if cold:
        _drop_from_cache(path)
    else:
        _step_raw(path, out)  # make sure it is cached
    proc = subprocess.run([sys.executable, __file__, "--step", name, "--file", str(path), "--out", str(out)],
                          capture_output=True, text=True, check=True)
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    if name in ("import", "copy"):
        t0 = time.perf_counter()
        os.sync()
        result["flush_seconds"] = time.perf_counter() - t0
    shutil.rmtree(out, ignore_errors=True)
    return result


def _measure(name: str, path: Path, out: Path, cold: bool, repeat: int) -> dict:
    runs = [_measure_once(name, path, out, cold) for _ in range(repeat)]
    best = min(runs, key=lambda r: r["seconds"])
    best["peak_rss"] = max(r["peak_rss"] for r in runs)
    best["mb_s"] = path.stat().st_size / 1e6 / best["seconds"]
    best["all_seconds"] = [round(r["seconds"], 1) for r in runs]
    return best


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--inlines", type=int, default=400)
    ap.add_argument("--crosslines", type=int, default=400)
    ap.add_argument("--samples", type=int, default=3500)
    ap.add_argument("--work", default=str(HERE / "_work"))
    ap.add_argument("--steps", default="raw,copy,import,segyio")
    ap.add_argument("--modes", default="cold,warm")
    ap.add_argument("--repeat", type=int, default=3, help="runs per step and mode; the best counts")
    ap.add_argument("--keep", action="store_true", help="keep the generated SEG-Y for another run")
    ap.add_argument("--step", choices=list(STEPS), help=argparse.SUPPRESS)
    ap.add_argument("--file", help=argparse.SUPPRESS)
    ap.add_argument("--out", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.step:
        _run_step(args.step, Path(args.file), Path(args.out))
        return 0

    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    path = work / f"ingest_{args.inlines}x{args.crosslines}x{args.samples}.sgy"
    out = work / "ingest.zarr"
    size = 3600 + args.inlines * args.crosslines * (240 + 4 * args.samples)
    free = shutil.disk_usage(work).free
    if free < 2.5 * size and not path.exists():
        print(f"not enough disk space in {work}: {free / 1e9:.1f} GB free, need {2.5 * size / 1e9:.1f} GB")
        return 1
    try:
        if not path.exists() or path.stat().st_size != size:
            t0 = time.perf_counter()
            write_segy(path, args.inlines, args.crosslines, args.samples)
            print(f"wrote {path.name}: {size / 1e9:.2f} GB, IEEE float (format 5) big-endian, "
                  f"{args.inlines} x {args.crosslines} traces x {args.samples} samples in "
                  f"{time.perf_counter() - t0:.1f} s")
        results: dict[tuple[str, str], dict] = {}
        for mode in args.modes.split(","):
            for name in args.steps.split(","):
                if name == "segyio" and mode == "warm" and "cold" in args.modes:
                    continue  # one segyio figure is enough: it is far from the target either way
                repeat = 1 if name == "segyio" else args.repeat
                r = results[(name, mode)] = _measure(name, path, out, cold=mode == "cold", repeat=repeat)
                extra = f", then {r['flush_seconds']:.1f} s to flush to disk" if "flush_seconds" in r else ""
                print(f"{mode:4s} {name:7s} {r['mb_s']:7.0f} MB/s  {r['seconds']:6.1f} s (runs {r['all_seconds']})  "
                      f"peak RSS {r['peak_rss'] / 1e6:6.0f} MB{extra}", flush=True)
        print()
        for mode in args.modes.split(","):
            raw, imp = results.get(("raw", mode)), results.get(("import", mode))
            if raw and imp:
                ratio = imp["mb_s"] / raw["mb_s"]
                print(f"{mode}: import / raw read = {ratio:.2f} (target >= 0.50); import peak RSS "
                      f"{imp['peak_rss'] / 1e6:.0f} MB (target <= 1000 MB)")
            copy = results.get(("copy", mode))
            if imp and copy:
                print(f"{mode}: import / copy (read + write, nothing decoded) = {imp['mb_s'] / copy['mb_s']:.2f}")
            seg = results.get(("segyio", mode))
            if imp and seg:
                print(f"{mode}: import / segyio.tools.cube = {imp['mb_s'] / seg['mb_s']:.2f}; "
                      f"segyio peak RSS {seg['peak_rss'] / 1e6:.0f} MB")
    finally:
        shutil.rmtree(out, ignore_errors=True)
        if not args.keep:
            path.unlink(missing_ok=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
