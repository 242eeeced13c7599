"""Architecture rules of the package, checked on the source (AST), not by convention.

- no import cycles between ikaros modules (module-level and function-level imports alike);
- command modules of ikaros.cli never import each other (shared code lives in ``_*`` modules);
- numerics never import plotting or web code;
- importing the command line loads none of the heavy libraries.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT

SRC = ROOT / "src"
PKG = SRC / "ikaros"


def _module_name(path: Path) -> str:
    rel = path.relative_to(SRC).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for p in PKG.rglob("*.py")}


def _runtime_nodes(tree: ast.AST) -> list[ast.AST]:
    """Every node except those under ``if TYPE_CHECKING:`` (annotations only, never run)."""
    out: list[ast.AST] = []
    stack: list[ast.AST] = [tree]
    while stack:
        node = stack.pop()
        out.append(node)
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            stack.extend(node.orelse)
            continue
        stack.extend(ast.iter_child_nodes(node))
    return out


def _imports(path: Path, name: str, modules: dict[str, Path]) -> set[str]:
    """ikaros modules imported anywhere in the file at run time (resolved to modules)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    is_pkg = path.name == "__init__.py"
    found: set[str] = set()
    for node in _runtime_nodes(tree):
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                pkg = name.split(".") if is_pkg else name.split(".")[:-1]
                pkg = pkg[: len(pkg) - (node.level - 1)]
                base = ".".join([*pkg, base] if base else pkg)
            targets = [f"{base}.{a.name}" for a in node.names] + [base]
        for t in targets:
            while t and t not in modules:
                t = t.rpartition(".")[0]
            if t.startswith("ikaros") and t != name and t != "ikaros":
                found.add(t)
    return found


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    return {name: _imports(path, name, modules) for name, path in modules.items()}


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[list[str]] = []
    counter = [0]

    def visit(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    sys.setrecursionlimit(10000)
    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def _without_packages(graph: dict[str, set[str]]) -> dict[str, set[str]]:
    """Drop edges into a package's own ``__init__`` from its submodules (re-export files)."""
    return {
        v: {w for w in ws if not (w.startswith("ikaros") and v.startswith(w + "."))}
        for v, ws in graph.items()
    }


def test_no_import_cycles() -> None:
    cycles = _cycles(_without_packages(_graph()))
    assert cycles == [], f"import cycles: {cycles}"


def test_commands_never_import_each_other() -> None:
    graph = _graph()
    commands = {m for m in graph if m.startswith("ikaros.cli.") and m.split(".")[-1][0] != "_"}
    assert "ikaros.cli.analyze" in commands
    for cmd in sorted(commands):
        other = sorted(graph[cmd] & commands)
        assert other == [], f"{cmd} imports other command modules {other}"


def test_numerics_never_import_plotting_or_web() -> None:
    numeric = ("ikaros.stats", "ikaros.scan.engine", "ikaros.cutpoints", "ikaros.study")
    for name, path in _modules().items():
        if not name.startswith(numeric):
            continue
        text = path.read_text(encoding="utf-8")
        tree = ast.parse(text)
        for node in ast.walk(tree):
            mods = []
            if isinstance(node, ast.Import):
                mods = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                mods = [node.module]
            for m in mods:
                assert not m.startswith(("matplotlib", "ikaros.report", "ikaros.web", "fastapi")), (
                    f"{name} imports {m}"
                )


def test_cli_import_loads_no_heavy_library() -> None:
    code = (
        "import sys, ikaros.cli\n"
        "heavy = ['matplotlib', 'lifelines', 'statsmodels', 'fastapi', 'reportlab', 'pandas',"
        " 'scipy', 'sqlalchemy', 'numpy']\n"
        "print(','.join(m for m in heavy if m in sys.modules))"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert run.stdout.strip() == ""
