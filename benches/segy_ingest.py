"""SEG-Y import and export speed against a copy of the same file on the same disk, one run.

A survey of 300 x 400 traces x 2500 samples (1.23 GB) is written as SEG-Y with IEEE float
samples (format 5, big-endian, the common modern case). Every step then runs in its own
process, timed from the outside (interpreter start and imports included, as a user running
the command sees it), after ``sync`` and dropping the page cache (``echo 1 >
/proc/sys/vm/drop_caches``, which needs root; otherwise the file alone is dropped with
``posix_fadvise`` and the output says so). Steps that write end with ``sync`` inside their
timing, so written means on disk:

- ``cat``     the raw sequential read (``cat FILE > /dev/null``);
- ``cp``      ``cp FILE COPY && sync``: the anchor, the same bytes read and written once;
- ``segyio``  segyio reading and decoding every trace in 4,000-trace blocks (``f.trace.raw[a:b]``);
- ``import``  ``aaspi_py.import_segy`` to a zarr volume, then ``sync``;
- ``export``  ``aaspi_py.export_segy`` of that volume back to SEG-Y, then ``sync`` (the file is
  checked to be identical to the source afterwards).

Figures: MB/s of the SEG-Y file size over wall seconds, CPU-seconds of the step's processes
(user + system: a figure the load of a shared machine changes less), peak RSS of the step's process
(VmHWM), and import and export as a fraction of the copy measured in the same run (target
>= 0.5 each, peak RSS <= 500 MB). ``--repeat`` runs per step (default 2), best time shown
with all times; the load average is printed with each line because the machine is shared.

    python benches/segy_ingest.py [--inlines 300 --crosslines 400 --samples 2500]
                                  [--work benches/_work] [--keep] [--steps cat,cp,segyio,import,export]

Generated files go to benches/_work/ (git-ignored) and are deleted at the end.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
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

def _step_segyio(path: Path, out: Path) -> None:
    import segyio

    with segyio.open(path, ignore_geometry=True) as f:
        n = f.tracecount
        for a in range(0, n, 4000):
            block = f.trace.raw[a:min(n, a + 4000)]
    assert block.size


def _step_import(path: Path, out: Path) -> None:
    from aaspi_py.io.segy import import_segy

    import_segy(path, out)
    os.sync()


def _step_export(path: Path, out: Path) -> None:
    from aaspi_py.io.segy import export_segy

    export_segy(out, out.with_suffix(".sgy"), overwrite=True)
    os.sync()


STEPS = {"segyio": _step_segyio, "import": _step_import, "export": _step_export}
COMMANDS = {"cat": 'cat "{src}" > /dev/null', "cp": 'cp "{src}" "{dst}" && sync'}


def _run_step(name: str, path: Path, out: Path) -> None:
    STEPS[name](path, out)
    print(json.dumps({"peak_rss": peak_rss_bytes()}))


# ---------------------------------------------------------------- driver

def drop_caches(path: Path) -> str:
    """Flush dirty pages and empty the page cache; 'page cache' or, without root, 'file only'."""
    os.sync()
    try:
        Path("/proc/sys/vm/drop_caches").write_text("1\n")
        return "page cache"
    except OSError:
        fd = os.open(path, os.O_RDONLY)
        try:
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
        finally:
            os.close(fd)
        return "file only"


def _load() -> str:
    return Path("/proc/loadavg").read_text().split()[0]


def _measure_once(name: str, path: Path, out: Path) -> dict:
    copy = out.with_name("copy.sgy")
    if name == "import":
        shutil.rmtree(out, ignore_errors=True)
    copy.unlink(missing_ok=True)
    out.with_suffix(".sgy").unlink(missing_ok=True)
    dropped = drop_caches(path)
    if name in COMMANDS:
        cmd = ["/usr/bin/time", "-f", "%M", "-o", str(out.with_name("rss.txt")), "bash", "-c",
               COMMANDS[name].format(src=path, dst=copy)]
    else:
        cmd = [sys.executable, __file__, "--step", name, "--file", str(path), "--out", str(out)]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True)
    seconds = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    if proc.returncode:
        raise SystemExit(f"{name} failed:\n{proc.stderr}")
    if name in COMMANDS:
        peak = int(out.with_name("rss.txt").read_text().split()[-1]) * 1024
    else:
        peak = json.loads(proc.stdout.strip().splitlines()[-1])["peak_rss"]
    copy.unlink(missing_ok=True)
    return {"seconds": seconds, "cpu": cpu, "peak_rss": peak, "dropped": dropped, "load": _load()}


def _measure(name: str, path: Path, out: Path, repeat: int) -> dict:
    runs = [_measure_once(name, path, out) for _ in range(repeat)]
    best = min(runs, key=lambda r: r["seconds"])
    best["peak_rss"] = max(r["peak_rss"] for r in runs)
    best["mb_s"] = path.stat().st_size / 1e6 / best["seconds"]
    best["all_seconds"] = [round(r["seconds"], 2) for r in runs]
    best["loads"] = [r["load"] for r in runs]
    best["cpu"] = min(r["cpu"] for r in runs)
    return best


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--inlines", type=int, default=300)
    ap.add_argument("--crosslines", type=int, default=400)
    ap.add_argument("--samples", type=int, default=2500)
    ap.add_argument("--work", default=str(HERE / "_work"))
    ap.add_argument("--steps", default="cat,cp,segyio,import,export")
    ap.add_argument("--repeat", type=int, default=2, help="runs per step; the best counts")
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
    if free < 3.5 * size and not path.exists():
        print(f"not enough disk space in {work}: {free / 1e9:.1f} GB free, need {3.5 * size / 1e9:.1f} GB")
        return 1
    steps = args.steps.split(",")
    if "export" in steps and "import" not in steps:
        steps.insert(steps.index("export"), "import")  # export reads the imported volume
    try:
        if not path.exists() or path.stat().st_size != size:
            t0 = time.perf_counter()
            write_segy(path, args.inlines, args.crosslines, args.samples)
            print(f"wrote {path.name}: {size / 1e9:.2f} GB, IEEE float (format 5) big-endian, "
                  f"{args.inlines} x {args.crosslines} traces x {args.samples} samples in "
                  f"{time.perf_counter() - t0:.1f} s")
        results: dict[str, dict] = {}
        for name in steps:
            r = results[name] = _measure(name, path, out, args.repeat)
            print(f"{name:7s} {r['mb_s']:7.0f} MB/s  {r['seconds']:6.2f} s (runs {r['all_seconds']}, load "
                  f"{', '.join(r['loads'])})  CPU {r['cpu']:5.2f} s  peak RSS {r['peak_rss'] / 1e6:5.0f} MB  "
                  f"[cache dropped: {r['dropped']}]", flush=True)
        if "export" in results:
            same = out.with_suffix(".sgy").read_bytes() == path.read_bytes()
            print(f"exported file identical to the source: {same}")
        print()
        copy = results.get("cp")
        for name in ("import", "export"):
            if name in results and copy:
                r = results[name]
                print(f"{name} / cp = {r['mb_s'] / copy['mb_s']:.2f} (target >= 0.50; CPU-seconds "
                      f"{r['cpu'] / copy['cpu']:.1f}x the copy's), peak RSS "
                      f"{r['peak_rss'] / 1e6:.0f} MB (target <= 500 MB); cat {results['cat']['mb_s']:.0f} MB/s, "
                      f"segyio block read {results['segyio']['mb_s']:.0f} MB/s"
                      if "cat" in results and "segyio" in results else
                      f"{name} / cp = {r['mb_s'] / copy['mb_s']:.2f}")
    finally:
        shutil.rmtree(out, ignore_errors=True)
        for extra in (out.with_suffix(".sgy"), out.with_name("copy.sgy"), out.with_name("rss.txt")):
            extra.unlink(missing_ok=True)
        if not args.keep:
            path.unlink(missing_ok=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
