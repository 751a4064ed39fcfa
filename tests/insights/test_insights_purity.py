"""perception.insights is pure Python: standard library only, no Flask, no database, no numpy/scipy."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.pure  # reads no database: the PostgreSQL pass leaves it out (tests/conftest.py)

PACKAGE = Path(__file__).resolve().parents[2] / "perception" / "insights"
FORBIDDEN = {"flask", "flask_sqlalchemy", "sqlalchemy", "werkzeug", "numpy", "scipy", "pandas", "plotly"}


def imported_modules(path: Path) -> list[tuple[int, str | None, int]]:
    """(line, absolute module name or None for relative, relative level) for every import."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name, 0) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            found.append((node.lineno, node.module if node.level == 0 else None, node.level))
        elif isinstance(node, ast.Call) and getattr(node.func, "id", None) == "__import__":
            found.append((node.lineno, "__import__", 0))
        elif isinstance(node, ast.Attribute) and node.attr == "import_module":
            found.append((node.lineno, "importlib.import_module", 0))
    return found


def test_package_exists_and_stays_small() -> None:
    files = sorted(PACKAGE.glob("*.py"))
    assert PACKAGE / "__init__.py" in files and len(files) >= 4
    for path in files:
        assert len(path.read_text(encoding="utf-8").splitlines()) <= 350, path.name


def test_only_standard_library_imports() -> None:
    problems = []
    for path in sorted(PACKAGE.rglob("*.py")):
        for line, module, level in imported_modules(path):
            where = f"{path.name}:{line}"
            if module in ("__import__", "importlib.import_module"):
                problems.append(f"{where}: dynamic import")
            elif level > 1:
                problems.append(f"{where}: relative import reaching outside perception.insights")
            elif module is not None:
                top = module.split(".")[0]
                if top in FORBIDDEN or top not in sys.stdlib_module_names:
                    problems.append(f"{where}: imports {module}")
    assert not problems, problems


def test_importing_the_package_loads_no_third_party_module() -> None:
    # Load perception/insights on its own (not through perception/__init__, which builds the app)
    # in a fresh interpreter without site-packages (-S), then look at what ended up in sys.modules.
    script = f"""
import importlib.util, sys
spec = importlib.util.spec_from_file_location(
    "insights_alone", {str(PACKAGE / "__init__.py")!r}, submodule_search_locations=[{str(PACKAGE)!r}]
)
module = importlib.util.module_from_spec(spec)
sys.modules["insights_alone"] = module
spec.loader.exec_module(module)
assert module.build_gap_report and module.t_ppf(0.975, 10) > 2
third_party = sorted(
    name for name in sys.modules
    if name.split(".")[0] not in sys.stdlib_module_names
    and name != "__main__" and not name.startswith("insights_alone")
)
print(",".join(third_party))
"""
    result = subprocess.run(
        [sys.executable, "-I", "-S", "-c", script], capture_output=True, text=True, check=True, timeout=60
    )
    assert result.stdout.strip() == "", result.stdout
