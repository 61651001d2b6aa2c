"""A tiny layered survey and a hand-made text training file, for rfc3d tests.

Three facies in layers (samples 0-9 class 1 "top", 10-17 class 2 "middle", 18-29 class 3
"bottom"); attributes ``a1`` and ``a2`` separate them, ``a3`` is noise. Inline 202,
crossline 53 is a dead trace. The training file has one patch per facies on inlines 201
and 207 (two connected patches per facies).
"""

import numpy as np

import aaspi_py

SHAPE = (10, 8, 30)
INLINE, CROSSLINE, SAMPLE = np.arange(200, 210), np.arange(50, 58), 1000.0 + 4.0 * np.arange(30)
DEAD = (2, 3)
ATTRS = ["a1", "a2", "a3"]
TRAINING = "training/hand.txt"


def truth() -> np.ndarray:
    t = np.full(SHAPE, 3, dtype=np.int16)
    t[:, :, :10], t[:, :, 10:18] = 1, 2
    return t


def save(project, name, data, mask=None, kind="attribute", **coords):
    kw = dict(inline=INLINE, crossline=CROSSLINE, sample=SAMPLE, trace_mask=mask, chunks=(4, 4, 8))
    kw.update(coords)
    return aaspi_py.save_volume(data, project.volumes_dir / f"{name}.zarr", kind=kind, overwrite=True, **kw)


def build(project, seed=0, rows=None, header=None):
    """Write a1, a2, a3, amplitude, truth and the training file into ``project``; return the file's rows."""
    rng = np.random.default_rng(seed)
    t = truth()
    mask = np.ones(SHAPE[:2], bool)
    mask[DEAD] = False
    means = {"a1": [0, 2.0, 0.0, -1.5], "a2": [0, 0.0, 1.5, 0.0], "a3": [0, 0, 0, 0]}
    for name, m in means.items():
        data = np.asarray(m)[t] + 0.3 * rng.standard_normal(SHAPE)
        data[~mask] = 0.0  # dead traces hold zeros, as after SEG-Y import
        save(project, name, data.astype(np.float32), mask)
    save(project, "amplitude", rng.standard_normal(SHAPE).astype(np.float32), mask, kind="amplitude")
    save(project, "truth", t, mask, kind="facies")
    if rows is None:
        rows = [(INLINE[i], CROSSLINE[j], SAMPLE[k], int(t[i, j, k]))
                for i in (1, 7) for j in (0, 1, 2) for k in (2, 3, 4, 12, 13, 14, 22, 23, 24)]
    write_training(project, rows, header)
    return rows


def write_training(project, rows, header=None, path=TRAINING):
    lines = header if header is not None else [
        "# hand-made training file", "# classes: 1=top, 2=middle, 3=bottom", "# inline crossline sample class"]
    body = [f"{il:g} {xl:g} {s:g} {c}" for il, xl, s, c in rows]
    (project.root / path).parent.mkdir(parents=True, exist_ok=True)
    (project.root / path).write_text("\n".join([*lines, *body]) + "\n", encoding="utf-8")
    return len(lines)


def copy_into(template, project):
    """Copy a project made by :func:`build` into ``project`` (faster than writing it again)."""
    import shutil

    for folder in ("volumes", "training"):
        shutil.copytree(template.root / folder, project.root / folder, dirs_exist_ok=True)
    return [tuple(float(x) for x in line.split()[:3]) + (int(line.split()[3]),)
            for line in (project.root / TRAINING).read_text().splitlines() if not line.startswith("#")]
