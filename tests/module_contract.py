"""The contract every module honours; each module's tests subclass :class:`ModuleContract`.

A subclass sets ``module_id`` and implements ``setup_project(self, project)`` returning the
keyword parameters of a tiny run on that project (it may write volumes, polygons, etc.).
"""

from __future__ import annotations

import subprocess
import sys
import tomllib

import pytest

import aaspi_py
from aaspi_py.framework.errors import Cancelled
from aaspi_py.framework.params import template, validate
from aaspi_py.framework.progress import Progress
from aaspi_py.framework.registry import CATEGORIES, get_module


class _CancelAfter(Progress):
    """Requests a cancel at the first progress update or check after ``n`` updates."""

    def __init__(self, n: int = 0) -> None:
        super().__init__()
        self.n = n

    def update(self, fraction, status=None):
        super().update(fraction, status)
        self.n -= 1
        if self.n < 0:
            self.cancel()


class ModuleContract:
    module_id: str = ""

    def setup_project(self, project) -> dict:  # pragma: no cover - abstract
        raise NotImplementedError

    @property
    def module(self):
        return get_module(self.module_id)

    def _files(self, project):
        return sorted(p.relative_to(project.root).as_posix() for p in project.root.rglob("*")
                      if p.is_file() and not p.relative_to(project.root).as_posix().startswith("logs/"))

    def test_descriptor(self):
        m = self.module
        assert m.id == self.module_id
        assert m.category in CATEGORIES
        assert m.description and "\n" not in m.description
        assert all(p.help for p in m.params), "every parameter needs a help text (CLI, template, tooltip)"

    def test_parameter_template_round_trip(self, project):
        params = self.setup_project(project)
        m = self.module
        checked = validate(m.id, m.all_params, params)
        again = validate(m.id, m.all_params, tomllib.loads(template(m.id, m.all_params, checked)))
        assert again == checked

    def test_module_file_imports_without_qt(self):
        code = (f"import sys, aaspi_py.modules.{self.module_id} as m; "
                "bad = [k for k in sys.modules if k.split('.')[0] in ('PyQt5', 'pyqtgraph', 'PySide6')]; "
                "print(bad); sys.exit(1 if bad else 0)")
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
        assert out.returncode == 0, out.stdout + out.stderr

    def test_tiny_run_writes_its_outputs(self, project):
        params = self.setup_project(project)
        res = aaspi_py.run(self.module_id, project.root, **params)
        assert res.outputs, "a run reports what it wrote"
        for path in res.outputs.values():
            assert path.exists()
        assert "status: completed" in res.log_path.read_text()

    def test_cancel_leaves_no_output(self, project):
        params = self.setup_project(project)
        before = self._files(project)
        with pytest.raises(Cancelled):
            aaspi_py.run(self.module_id, project.root, progress=_CancelAfter(0), **params)
        assert self._files(project) == before
