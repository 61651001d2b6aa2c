"""SEPlib / AASPI ``.H`` files: read, write, import to a volume and export from one.

A ``.H`` file is ASCII history: every program that touched the data appended lines of
``key=value`` pairs (values with spaces are quoted); the **last** occurrence of a key wins.
``in=`` names the binary file (AASPI and SEPlib write an absolute path to ``name.H@``;
``in="stdin"`` means the binary follows the header in the same file after the bytes
``\\f\\f\\x04``). The binary is a dense array with axis 1 fastest:

- ``n1, n2, n3`` sizes: ``n1`` = samples, ``n2`` = crossline, ``n3`` = inline, so the array
  read in C order has shape (n3, n2, n1) = (inline, crossline, sample), the volume layout;
- ``o1..o3`` origins and ``d1..d3`` steps, ``label1..3`` axis names;
- ``esize=4`` bytes per value and ``data_format`` ``xdr_float`` (big-endian IEEE float, the
  SEPlib default), ``native_float`` (this machine's order, little-endian on x86/ARM),
  ``xdr_int`` / ``native_int`` (4-byte integers, read as float32).

:func:`import_sep` makes a volume: line numbers from ``o2/d2`` and ``o3/d3`` when they are
whole numbers (else 1..n with a note), samples from ``o1/d1`` in ms (seconds are converted
when ``label1`` says seconds or, with no label, when ``d1`` < 0.1 as in SEPlib's usual
``d1=0.004``). :func:`export_sep` writes a volume with ``o/d`` from its coordinates and
``label1="Time (ms)"`` (or ``"Depth (m)"``), ``label2="Crossline"``, ``label3="Inline"``.

The ``segy_import`` / ``segy_export`` modules take a ``.H`` path too: the file extension
decides.
"""

from __future__ import annotations

import os
import re
import time
from pathlib import Path
from typing import Any

import numpy as np

from aaspi_py.framework.errors import AaspiError
from aaspi_py.framework.progress import Progress
from aaspi_py.volume import DEFAULT_CHUNKS, commit_path, remove_path, temporary_path

FORMATS = {"xdr_float": ">f4", "native_float": "=f4", "xdr_int": ">i4", "native_int": "=i4"}
_PAIR = re.compile(r"""([A-Za-z_][\w.]*)=("[^"]*"|'[^']*'|[^\s"']\S*)""")
_STDIN_MARK = b"\x0c\x0c\x04"


# ---------------------------------------------------------------- header parsing

def parse_history(text: str) -> dict[str, str]:
    """``key=value`` pairs of a SEPlib history, last occurrence winning; quotes removed."""
    out: dict[str, str] = {}
    for line in text.splitlines():
        if line.lstrip().startswith("#"):
            continue
        for key, value in _PAIR.findall(line):
            if value[:1] in "\"'" and value[-1:] == value[:1]:
                value = value[1:-1]
            out[key] = value
    return out


def _number(header: dict[str, str], key: str, default: float, kind=float, where: str = ""):
    if key not in header:
        return default
    try:
        return kind(float(header[key])) if kind is int else kind(header[key])
    except ValueError:
        raise AaspiError(f"{where}: {key}={header[key]!r} is not a number; fix that line of the header.") from None


def read_header(path: str | os.PathLike) -> dict[str, Any]:
    """Parse a ``.H`` file: typed values for n1..n3, o1..o3, d1..d3, esize; strings otherwise.

    The returned dict also has ``binary`` (path of the data), ``offset`` (its first byte)
    and ``dtype`` (numpy dtype of the values).
    """
    path = Path(path)
    where = str(path)
    if not path.is_file():
        raise AaspiError(f"{where}: no such SEPlib header file; check the path.")
    raw = path.read_bytes()
    mark = raw.find(_STDIN_MARK)
    text = raw[: mark if mark >= 0 else len(raw)].decode("latin-1")
    header: dict[str, Any] = dict(parse_history(text))
    for axis in (1, 2, 3):
        header[f"n{axis}"] = _number(header, f"n{axis}", 1, int, where)
        header[f"o{axis}"] = _number(header, f"o{axis}", 0.0, float, where)
        header[f"d{axis}"] = _number(header, f"d{axis}", 1.0, float, where)
        header.setdefault(f"label{axis}", "")
    for axis in range(4, 10):
        if f"n{axis}" in header and _number(header, f"n{axis}", 1, int, where) > 1:
            raise AaspiError(f"{where}: n{axis}={header[f'n{axis}']} — only 3D data (n1, n2, n3) is supported; "
                             f"split the file into 3D cubes (e.g. with SEPlib Window3d).")
    header["esize"] = _number(header, "esize", 4, int, where)
    fmt = header.setdefault("data_format", "xdr_float")
    if fmt not in FORMATS or header["esize"] != 4:
        raise AaspiError(
            f"{where}: data_format={fmt} with esize={header['esize']} is not supported; use 4-byte values "
            f"({', '.join(FORMATS)})."
        )
    if "in" not in header:
        raise AaspiError(f"{where}: no in= line naming the binary data; add in=<path of the .H@ file>.")
    if header["in"] == "stdin":
        if mark < 0:
            raise AaspiError(f"{where}: in=stdin but no end-of-header mark (\\f\\f\\x04) before the data.")
        binary, offset = path, mark + len(_STDIN_MARK)
    else:
        binary, offset = _binary_path(path, header["in"]), 0
    header["binary"], header["offset"] = str(binary), offset
    header["dtype"] = np.dtype(FORMATS[fmt])
    need = header["n1"] * header["n2"] * header["n3"] * 4
    have = binary.stat().st_size - offset
    if have < need:
        raise AaspiError(
            f"{where}: the binary {binary} has {have} bytes but n1*n2*n3*esize = {need}; it is truncated or "
            f"n1/n2/n3 are wrong."
        )
    return header


def _binary_path(header_path: Path, name: str) -> Path:
    """``in=`` as given, else relative to the header's folder, else its file name there
    (a project moved to another disk keeps working)."""
    given = Path(name)
    for cand in (given, header_path.parent / given, header_path.parent / given.name):
        if cand.is_file():
            return cand
    raise AaspiError(
        f"{header_path}: the binary data in={name} does not exist (nor next to the header); copy the .H@ "
        f"file beside the .H or fix the in= line."
    )


# ---------------------------------------------------------------- read / write arrays

def read_sep(path: str | os.PathLike) -> tuple[np.ndarray, dict[str, Any]]:
    """The data of a ``.H`` file as a read-only memory-mapped array, and its header.

    Returns
    -------
    data : numpy memmap of shape (n3, n2, n1) = (inline, crossline, sample), in the
        file's dtype (read lazily: only the parts used are read)
    header : dict from :func:`read_header`
    """
    h = read_header(path)
    shape = (h["n3"], h["n2"], h["n1"])
    data = np.memmap(h["binary"], dtype=h["dtype"], mode="r", offset=h["offset"], shape=shape)
    return data, h


def _axis(values: np.ndarray) -> tuple[float, float]:
    values = np.asarray(values, dtype=np.float64)
    return float(values[0]), float(values[1] - values[0]) if values.size > 1 else 1.0


def _fmt(v: float) -> str:
    return f"{v:.10g}"


def write_sep(
    path: str | os.PathLike,
    data: Any,
    *,
    like: Any = None,
    esize: int = 4,
    data_format: str = "xdr_float",
    o: tuple[float, float, float] | None = None,
    d: tuple[float, float, float] | None = None,
    label: tuple[str, str, str] | None = None,
    overwrite: bool = False,
    progress=None,
    staging: tuple[Path, Path] | None = None,
) -> Path:
    """Write a 3D array as ``path`` (the ``.H``) and ``path@`` (the binary).

    Parameters
    ----------
    data : array of shape (inline, crossline, sample): numpy, dask, xarray DataArray or a
        volume Dataset (its ``data`` variable)
    like : volume (Dataset or path) whose coordinates give o/d/label when ``data`` has none
    esize : 4 (only 4-byte values are written)
    data_format : 'xdr_float' (big-endian) or 'native_float' (this machine's byte order)
    o, d, label : (axis 1, axis 2, axis 3) = (sample, crossline, inline) origins, steps and
        names; default from the coordinates of ``data`` or ``like``, else 0, 1 and ''

    Both files are written under temporary names and renamed when complete; an existing
    header is replaced only with ``overwrite=True``. Memory is bounded to one inline block.
    ``staging=(header_tmp, binary_tmp)`` writes to those paths and leaves the renaming to the
    caller (a module run renames its outputs at the end); ``in=`` still names ``path@``.
    """
    import xarray as xr

    from aaspi_py.volume import as_dataset

    path = Path(path)
    if esize != 4 or data_format not in ("xdr_float", "native_float"):
        raise AaspiError(f"write_sep: esize={esize}, data_format={data_format!r} is not supported; use esize=4 "
                         f"with 'xdr_float' or 'native_float'.")
    if path.exists() and not overwrite and staging is None:
        raise AaspiError(f"{path} already exists; pass --overwrite (overwrite=True) to replace it.")
    coords_from = None
    if isinstance(data, xr.Dataset):
        coords_from, data = data, data["data"]
    elif isinstance(data, xr.DataArray):
        coords_from = data
    if like is not None:
        coords_from = as_dataset(like)
    arr = data.data if isinstance(data, xr.DataArray) else data
    if getattr(arr, "ndim", None) != 3:
        raise AaspiError(f"write_sep: data must be 3D (inline, crossline, sample); got shape {getattr(arr, 'shape', None)}.")
    n3, n2, n1 = (int(s) for s in arr.shape)
    o_, d_, label_ = [0.0, 0.0, 0.0], [1.0, 1.0, 1.0], ["", "", ""]
    if coords_from is not None and "sample" in coords_from.coords:
        for k, dim in enumerate(("sample", "crossline", "inline")):
            o_[k], d_[k] = _axis(coords_from[dim].values)
        attrs = coords_from["sample"].attrs
        label_ = [f"{attrs.get('domain', 'time').capitalize()} ({attrs.get('units', 'ms')})", "Crossline", "Inline"]
    o_, d_, label_ = list(o or o_), list(d or d_), list(label or label_)
    dtype = np.dtype(">f4" if data_format == "xdr_float" else "=f4")
    binary = path.with_name(path.name + "@")
    tmp_h, tmp_b = staging or (temporary_path(path), temporary_path(binary))
    progress = progress if progress is not None else Progress()
    step = max(1, (64 << 20) // max(1, n2 * n1 * 4))
    try:
        with open(tmp_b, "wb") as f:
            for i0 in range(0, n3, step):
                block = np.asarray(arr[i0:i0 + step])
                f.write(np.ascontiguousarray(block, dtype=dtype).tobytes())
                progress.update(min(1.0, (i0 + step) / n3), "writing SEPlib binary")
                progress.check()
        lines = [
            f"aaspi_py write_sep: {time.strftime('%Y-%m-%d %H:%M:%S')}",
            f"\tn1={n1} n2={n2} n3={n3}",
            f"\to1={_fmt(o_[0])} o2={_fmt(o_[1])} o3={_fmt(o_[2])}",
            f"\td1={_fmt(d_[0])} d2={_fmt(d_[1])} d3={_fmt(d_[2])}",
            f'\tlabel1="{label_[0]}" label2="{label_[1]}" label3="{label_[2]}"',
            f'\tesize=4 data_format="{data_format}"',
            f'\tin="{binary.resolve()}"',
            "",
        ]
        tmp_h.write_text("\n".join(lines), encoding="ascii")
        if staging is None:
            commit_path(tmp_b, binary, overwrite=True)
            commit_path(tmp_h, path, overwrite=overwrite)
    except BaseException:
        remove_path(tmp_h)
        remove_path(tmp_b)
        raise
    return path


# ---------------------------------------------------------------- volumes

def _lines(o: float, d: float, n: int) -> tuple[np.ndarray, bool]:
    if float(o).is_integer() and float(d).is_integer() and d != 0:
        return (int(o) + int(d) * np.arange(n)).astype(np.int64), True
    return np.arange(1, n + 1, dtype=np.int64), False


def _sample_axis(h: dict[str, Any]) -> tuple[np.ndarray, str, str]:
    label = str(h.get("label1", "")).lower()
    words = set(re.findall(r"[a-z]+", label))
    o, d = h["o1"], h["d1"]
    depth = not words & {"time", "ms", "s", "sec", "seconds"} and bool(words & {"depth", "m", "ft", "km", "meters"})
    if depth:
        scale = 1000.0 if "(km)" in label else 1.0
        return (o + d * np.arange(h["n1"])) * scale, "depth", "ft" if "(ft)" in label else "m"
    seconds = bool(words & {"s", "sec", "seconds"}) if words & {"s", "sec", "seconds", "ms"} else d < 0.1
    scale = 1000.0 if seconds else 1.0
    return (o + d * np.arange(h["n1"])) * scale, "time", "ms"


def import_sep(src: str | os.PathLike, dst: str | os.PathLike, *, chunks=None, overwrite: bool = False,
               progress=None) -> dict:
    """Import a ``.H`` file as a volume (written under a temporary name, then renamed)."""
    import dask.array as da

    from aaspi_py.framework.scheduler import compute
    from aaspi_py.volume import build_dataset, write_dataset

    t0 = time.perf_counter()
    src, dst = Path(src), Path(dst)
    if dst.exists() and not overwrite:
        raise AaspiError(f"{dst} already exists; pass --overwrite (overwrite=True) to replace it.")
    data, h = read_sep(src)
    ch = tuple(max(1, min(c, s)) for c, s in zip(chunks or DEFAULT_CHUNKS, data.shape))
    arr = da.from_array(data, chunks=ch, asarray=True).astype(np.float32)
    inline, il_ok = _lines(h["o3"], h["d3"], h["n3"])
    crossline, xl_ok = _lines(h["o2"], h["d2"], h["n2"])
    sample, domain, units = _sample_axis(h)
    ds = build_dataset(arr, kind="amplitude", inline=inline, crossline=crossline, sample=sample,
                       attrs={"source": src.name, "sep_header": {k: str(v) for k, v in h.items() if k != "dtype"}})
    ds["sample"].attrs.update(domain=domain, units=units)
    live = arr.any(axis=2)
    ds = ds.assign_coords(trace_mask=(("inline", "crossline"), live))
    tmp = temporary_path(dst)
    dst.parent.mkdir(parents=True, exist_ok=True)
    try:
        compute(write_dataset(ds, tmp, chunks=ch, compute=False),
                progress=progress if progress is not None else None, status="importing SEPlib data")
        commit_path(tmp, dst, overwrite=overwrite)
    except BaseException:
        remove_path(tmp)
        raise
    n3, n2, n1 = data.shape
    summary = [f"imported {src.name}: {n3} inlines x {n2} crosslines x {n1} samples "
               f"({sample[0]:g}..{sample[-1]:g} {units}), {h['data_format']}"]
    for ok, axis, o_d in ((il_ok, "inline", (h["o3"], h["d3"])), (xl_ok, "crossline", (h["o2"], h["d2"]))):
        if not ok:
            summary.append(f"o/d of the {axis} axis ({o_d[0]:g}, {o_d[1]:g}) are not line numbers; numbered 1..n")
    return {"summary": summary, "source": str(src), "shape": [n3, n2, n1],
            "seconds": round(time.perf_counter() - t0, 3)}


def export_sep(src: Any, dst: str | os.PathLike, *, data_format: str = "xdr_float", overwrite: bool = False,
               progress=None, staging: tuple[Path, Path] | None = None) -> dict:
    """Write a volume (path or Dataset) as ``dst`` (.H) + ``dst@``; coordinates give o/d/label."""
    from aaspi_py.volume import as_dataset

    ds = as_dataset(src)
    path = write_sep(dst, ds, data_format=data_format, overwrite=overwrite, progress=progress, staging=staging)
    n3, n2, n1 = ds["data"].shape
    return {"summary": [f"wrote {Path(dst).name} (+ @ binary): n1={n1} n2={n2} n3={n3}, {data_format}"],
            "path": str(path), "binary": str(path.with_name(path.name + "@"))}

