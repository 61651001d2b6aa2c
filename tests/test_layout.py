"""The package's layering (SPEC 1): no import cycle, and no subpackage imports a layer above it."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
#: folders installed under the aaspi_py namespace (setup.cfg package_dir)
FOLDERS = {"aaspi_py": ROOT / "aaspi_py", "aaspi_py.modules": ROOT / "modules",
           "aaspi_py.gui": ROOT / "gui", "aaspi_py.sample_volumes": ROOT / "sample_volumes"}
#: the layers, bottom first; a part may import its own layer's parts and those below
LAYERS = [
    {"framework", "volume"},
    {"io", "mixture", "filters", "attributes"},
    {"training", "gtm"},
    {"selection", "forest"},
    {"sample_volumes"},
    {"modules", "cli"},
    {"gui"},
]
RANK = {part: i for i, layer in enumerate(LAYERS) for part in layer}


def _modules() -> dict[str, Path]:
    found = {}
    for prefix, folder in FOLDERS.items():
        for path in folder.rglob("*.py"):
            rel = path.relative_to(folder).with_suffix("").parts
            if prefix == "aaspi_py" and rel[0] in ("modules", "gui", "sample_volumes"):
                continue
            parts = prefix.split(".") + [p for p in rel if p != "__init__"]
            found[".".join(parts)] = path
    return found


def _imports(name: str, path: Path, known: set[str]) -> set[str]:
    """aaspi_py modules imported by one file (module level and inside functions)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            targets = [f"{module}.{a.name}" for a in node.names] + [module]
        else:
            continue
        for target in targets:
            while target and target not in known:
                target = target.rpartition(".")[0]
            if target and target != "aaspi_py" and target != name:
                out.add(target)
    return out


def _part(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else None


MODULES = _modules()
GRAPH = {m: _imports(m, p, set(MODULES)) for m, p in MODULES.items()}


def test_every_part_has_a_layer():
    parts = {_part(m) for m in MODULES} - {None}
    assert parts <= set(RANK), f"parts without a layer: {sorted(parts - set(RANK))}"


def test_no_import_cycle():
    cycles, done = [], set()

    def walk(node, path):
        for nxt in sorted(GRAPH.get(node, ())):
            if nxt in path:
                cycles.append(" -> ".join(path[path.index(nxt):] + [nxt]))
            elif nxt not in done:
                walk(nxt, path + [nxt])
        done.add(node)

    for module in sorted(GRAPH):
        if module not in done:
            walk(module, [module])
    assert not cycles, "import cycles:\n" + "\n".join(cycles[:5])


@pytest.mark.parametrize("module", sorted(m for m in MODULES if _part(m)))
def test_imports_point_down(module):
    mine = RANK[_part(module)]
    upward = sorted(t for t in GRAPH[module] if _part(t) and RANK[_part(t)] > mine)
    assert not upward, f"{module} imports from a layer above it: {upward}"


# ---------------------------------------------------------------- thin modules

MODULE_FILES = sorted(p for p in (ROOT / "modules").glob("*.py") if p.name != "__init__.py")
SHARED_RUN = 6  # lines in a row that count as a step written twice


def _code_lines(path: Path) -> list[str]:
    """Stripped lines that carry code (no blanks, comments, imports, lone brackets or help texts)."""
    out = []
    for line in path.read_text().splitlines():
        s = line.strip()
        if not s or s.startswith(("#", "import ", "from ")) or s in (")", "]", "}", "),", "],", "},"):
            continue
        out.append(s)
    return out


@pytest.mark.parametrize("path", MODULE_FILES, ids=lambda p: p.name)
def test_module_files_are_thin(path):
    assert len(path.read_text().splitlines()) < 200, f"{path.name}: move steps into the library"


def test_no_step_is_written_twice_across_modules():
    seen: dict[tuple[str, ...], str] = {}
    repeated = []
    for path in MODULE_FILES:
        lines = _code_lines(path)
        for i in range(len(lines) - SHARED_RUN + 1):
            run = tuple(lines[i:i + SHARED_RUN])
            if run in seen and seen[run] != path.name:
                repeated.append(f"{seen[run]} and {path.name}: {run[0]}")
            seen.setdefault(run, path.name)
    assert not repeated, "steps written twice (move them into the framework):\n" + "\n".join(repeated[:5])
