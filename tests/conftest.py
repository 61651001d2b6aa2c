"""Shared fixtures. Qt runs offscreen; projects are built in temporary folders."""

import os
import warnings
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("MPLBACKEND", "Agg")
warnings.filterwarnings("ignore", message=".*does not have a Zarr V3 specification.*")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data" / "segy"
DATA = ROOT / "tests" / "data"


@pytest.fixture
def project(tmp_path):
    """An empty project."""
    from aaspi_py import Project

    return Project.create(tmp_path / "proj", "test")


@pytest.fixture
def rng():
    return np.random.default_rng(12345)
