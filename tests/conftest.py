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


@pytest.fixture(scope="session")
def sample_project(tmp_path_factory):
    """The "small" synthetic sample project, built once per test session.

    Shared by every test: treat it as read-only. A test that writes into a project (runs a
    module, adds polygons) must use ``sample_project_copy`` instead.
    """
    from aaspi_py.sample_volumes import build_sample_project

    return build_sample_project(tmp_path_factory.mktemp("sample") / "sample", size="small")


@pytest.fixture
def sample_project_copy(sample_project, tmp_path):
    """A private copy of the small sample project, free to modify."""
    import shutil

    from aaspi_py import Project

    shutil.copytree(sample_project.root, tmp_path / "sample")
    return Project.open(tmp_path / "sample")


@pytest.fixture(autouse=True)
def _qt_tests_start_without_garbage(request):
    """Collect Python garbage before a Qt test: a cycle collected while Qt paints could
    delete a pyqtgraph item that a view is drawing."""
    if "qtbot" in request.fixturenames:
        import gc

        gc.collect()
    yield
