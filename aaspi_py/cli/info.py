"""A one-screen description of a volume (``aaspi info``, module volume_info)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import xarray as xr


def summary(ds: xr.Dataset) -> dict:
    il, xl, s = ds["inline"].values, ds["crossline"].values, ds["sample"].values
    mask = ds["trace_mask"].values
    out = {
        "shape": [int(n) for n in ds["data"].shape],
        "dtype": str(ds["data"].dtype),
        "kind": ds.attrs.get("kind", "?"),
        "inline": [int(il[0]), int(il[-1]), int(il[1] - il[0]) if len(il) > 1 else 0],
        "crossline": [int(xl[0]), int(xl[-1]), int(xl[1] - xl[0]) if len(xl) > 1 else 0],
        "sample": [float(s[0]), float(s[-1]), float(s[1] - s[0]) if len(s) > 1 else 0.0],
        "domain": ds["sample"].attrs.get("domain", "time"),
        "units": ds["sample"].attrs.get("units", "ms"),
        "live_traces": int(mask.sum()),
        "traces": int(mask.size),
        "chunks": [int(c[0]) for c in ds["data"].chunks] if ds["data"].chunks else None,
    }
    for k in ("module", "source"):
        if k in ds.attrs:
            out[k] = ds.attrs[k]
    return out


def describe(ds: xr.Dataset, path: str | Path = "") -> str:
    s = summary(ds)
    lines = [
        f"volume   {path}",
        f"kind     {s['kind']}   dtype {s['dtype']}   shape {tuple(s['shape'])} (inline, crossline, sample)",
        f"inline   {s['inline'][0]} .. {s['inline'][1]} step {s['inline'][2]}",
        f"crossline {s['crossline'][0]} .. {s['crossline'][1]} step {s['crossline'][2]}",
        f"sample   {s['sample'][0]:g} .. {s['sample'][1]:g} {s['units']} step {s['sample'][2]:g} ({s['domain']})",
        f"traces   {s['live_traces']} live of {s['traces']}",
        f"chunks   {tuple(s['chunks']) if s['chunks'] else '-'}",
    ]
    if s["live_traces"] and np.prod(s["shape"]) <= 50_000_000:
        data = ds["data"].values[ds["trace_mask"].values]
        finite = data[np.isfinite(data)]
        if finite.size:
            lines.append(f"values   min {finite.min():.6g}  max {finite.max():.6g}  mean {finite.mean():.6g}  "
                         f"std {finite.std():.6g}")
    if "module" in s:
        lines.append(f"made by  {s['module']}")
    return "\n".join(lines)
