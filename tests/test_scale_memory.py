"""Bounded memory at survey size (SPEC §6): kuwahara3d, define_training_data with polygons of a
fixed size and rfc3d's read of its text training file on a 600 x 600 x 400 volume, in a fresh
process, peak within 1.3x of the same run on a 128³ volume (``make test-slow``)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[1] / "benches" / "memory.py"


@pytest.fixture(scope="module")
def memory_bench(tmp_path_factory):
    """benches/memory.py, writing its projects in a temporary folder."""
    import os
    import sys

    work = tmp_path_factory.mktemp("memory")
    os.environ["AASPI_MEMORY_WORK"] = str(work)
    sys.path.insert(0, str(BENCH.parent))  # the script imports its sibling _memory.py
    spec = importlib.util.spec_from_file_location("memory_bench", BENCH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    try:
        yield module, {shape: module.make_project(shape) for shape in [(128, 128, 128), (600, 600, 400)]}
    finally:
        os.environ.pop("AASPI_MEMORY_WORK", None)
        sys.path.remove(str(BENCH.parent))


@pytest.mark.slow
@pytest.mark.parametrize("run", ["kuwahara3d", "kuwahara3d-joint", "define_training_data", "rfc3d-training-file"])
def test_peak_memory_at_600x600x400_stays_near_a_small_volume(memory_bench, run):
    module, roots = memory_bench
    small = module.run_child(run, roots[(128, 128, 128)])
    large = module.run_child(run, roots[(600, 600, 400)])
    assert large["shape"] == [600, 600, 400] and large["outputs"] == small["outputs"] >= 1
    assert large["voxels"] == small["voxels"]  # the same training voxels (none for kuwahara3d)
    # 66x the voxels of the small volume, yet the peak stays within 1.3x of its peak
    assert large["peak_mb"] <= 1.3 * small["peak_mb"], (small, large)
