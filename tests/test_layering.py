"""The shape of perception/ (DESIGN section 4, README "Where things live"), read from the code's imports.

Every import counts, those inside functions too. The parts, lowest first, are LAYERS; a module may
import its own part and the parts below it, never one above. No import cycle between modules, no
private name (`_x`) taken from another module, at most four modules loose at the top, none over 350
lines. Views and services keep to their roles: views run no SQL and compute no statistics, services
and queries never touch the request. The planted-import tests show each rule can fail."""

from __future__ import annotations

import ast
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import pytest

pytestmark = pytest.mark.pure  # reads no database: the PostgreSQL pass leaves it out (tests/conftest.py)

ROOT = Path(__file__).resolve().parents[1] / "perception"

# Lowest first. The README's "Where things live" writes down the same order.
LAYERS = (
    "core",
    "insights",
    "charts",
    "web",
    "audit",
    "backups",
    "accounts",
    "webhooks",
    "surveys",
    "board",
    "reports",
    "followups",
    "responses",
    "invitations",
    "teams",
    "mirror",
    "worker",
    "api",
    "demo",
    "cli",
    "",  # perception/__init__.py: create_app, which may import every part
)
MAX_LOOSE = 4
MAX_LINES = 350
REQUEST_NAMES = {"request", "session", "g"}


@dataclass
class Module:
    name: str
    path: Path
    is_package: bool
    tree: ast.Module
    lines: int
    imports: list[tuple[int, str, list[str]]] = field(default_factory=list)  # (line, module, names)


def load(root: Path) -> dict[str, Module]:
    modules = {}
    for path in sorted(root.rglob("*.py")):
        parts = list(path.relative_to(root.parent).with_suffix("").parts)
        is_package = parts[-1] == "__init__"
        if is_package:
            parts = parts[:-1]
        source = path.read_text(encoding="utf-8")
        modules[".".join(parts)] = Module(".".join(parts), path, is_package, ast.parse(source), source.count("\n"))
    for module in modules.values():
        for node in ast.walk(module.tree):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    module.imports.append((node.lineno, alias.name, []))
            elif isinstance(node, ast.ImportFrom):
                target = absolute(module, node)
                module.imports.append((node.lineno, target, [alias.name for alias in node.names]))
    return modules


def absolute(module: Module, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    base = module.name if module.is_package else module.name.rpartition(".")[0]
    for _ in range(node.level - 1):
        base = base.rpartition(".")[0]
    return f"{base}.{node.module}" if node.module else base


def part_of(name: str) -> str:
    bits = name.split(".")
    return bits[1] if len(bits) > 1 else ""


def targets(modules: dict[str, Module], module: str, names: list[str]) -> list[str]:
    """The perception modules an import loads: `from a import b` loads a.b when b is a module."""
    found = []
    for name in names or [None]:
        candidate = f"{module}.{name}" if name else module
        if candidate in modules:
            found.append(candidate)
        elif module in modules:
            found.append(module)
    return found


def graph(modules: dict[str, Module]) -> dict[str, set[str]]:
    edges = defaultdict(set)
    for module in modules.values():
        for _line, target, names in module.imports:
            for loaded in targets(modules, target, names):
                inside_own_package = module.is_package and loaded.startswith(module.name + ".")
                if loaded != module.name and not inside_own_package:
                    edges[module.name].add(loaded)
    return edges


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(node):
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(edges.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return found


def upward_imports(modules: dict[str, Module]) -> list[str]:
    rank = {part: position for position, part in enumerate(LAYERS)}
    problems = []
    for module in modules.values():
        own = part_of(module.name)
        if own not in rank:
            problems.append(f"{module.name}: part '{own}' is not in LAYERS (add it to the order and the README)")
            continue
        for line, target, names in module.imports:
            for loaded in targets(modules, target, names):
                other = part_of(loaded)
                if other != own and rank.get(other, -1) > rank[own]:
                    problems.append(f"{module.path.name}:{line} {module.name} imports {loaded} (above it)")
    return problems


def private_imports(modules: dict[str, Module]) -> list[str]:
    problems = []
    for module in modules.values():
        for line, target, names in module.imports:
            if not (target == "perception" or target.startswith("perception.")):
                continue
            for name in names:
                if name.startswith("_") and not name.startswith("__"):
                    problems.append(f"{module.name}:{line} imports the private name {name} from {target}")
        # `from perception.x import y as module` then `module._private`
        aliases = {}
        for node in ast.walk(module.tree):
            if isinstance(node, ast.ImportFrom) and absolute(module, node).startswith("perception"):
                for alias in node.names:
                    if f"{absolute(module, node)}.{alias.name}" in modules:
                        aliases[alias.asname or alias.name] = alias.name
        for node in ast.walk(module.tree):
            if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in aliases
                    and node.attr.startswith("_") and not node.attr.startswith("__")):
                problems.append(f"{module.name}:{node.lineno} uses the private name {node.value.id}.{node.attr}")
    return problems


def role_problems(modules: dict[str, Module]) -> list[str]:
    """Views run no SQL and compute no statistics; services and queries never read the request."""
    problems = []
    for module in modules.values():
        leaf = module.name.rpartition(".")[2]
        for line, target, names in module.imports:
            top = target.split(".")[0]
            statistics = target.startswith("perception.insights") and not all(name.isupper() for name in names)
            if leaf.endswith("views") and (top == "sqlalchemy" or statistics):
                problems.append(f"{module.name}:{line} a view imports {target} {names} (SQL and statistics "
                                "belong in queries.py, service.py and perception.insights)")
            if (leaf.endswith(("service", "queries")) and top == "flask"
                    and REQUEST_NAMES.intersection(names)):
                problems.append(f"{module.name}:{line} a service or query reads the request: {names}")
    return problems


def size_problems(modules: dict[str, Module]) -> list[str]:
    loose = sorted(name for name, module in modules.items() if name.count(".") == 1 and not module.is_package)
    problems = [f"{len(loose)} loose modules at the top of perception/ (at most {MAX_LOOSE}): {loose}"] if len(
        loose) > MAX_LOOSE else []
    problems += [f"{name} has {module.lines} lines (at most {MAX_LINES})" for name, module in modules.items()
                 if module.lines > MAX_LINES]
    return problems


@pytest.fixture(scope="module")
def modules():
    return load(ROOT)


def test_every_part_is_in_the_order(modules):
    parts = {part_of(name) for name in modules}
    assert parts <= set(LAYERS), parts - set(LAYERS)
    assert {"core", "insights", "charts", "web", "accounts", "reports", "responses", "invitations"} <= parts


def test_imports_point_down_only(modules):
    assert upward_imports(modules) == []


def test_core_insights_and_charts_stand_alone(modules):
    allowed = {"core": {"core"}, "insights": {"insights"}, "charts": {"charts", "insights"}}
    problems = []
    for edges_from, loaded in graph(modules).items():
        own = part_of(edges_from)
        if own in allowed:
            problems += [f"{edges_from} -> {name}" for name in loaded if part_of(name) not in allowed[own]]
    assert problems == []


def test_no_import_cycles(modules):
    assert cycles(graph(modules)) == []


def test_no_private_name_crosses_a_module(modules):
    assert private_imports(modules) == []


def test_views_and_services_keep_their_roles(modules):
    assert role_problems(modules) == []


def test_the_tree_stays_small(modules):
    assert size_problems(modules) == []


# --- The rules can fail: the same checks on a small planted tree ---------------------------------

def plant(tmp_path, files):
    root = tmp_path / "perception"
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    for folder in {p.parent for p in root.rglob("*.py")} | {root}:
        (folder / "__init__.py").touch()
    return load(root)


def test_a_planted_upward_import_fails(tmp_path):
    planted = plant(tmp_path, {
        "core/models.py": "from perception.reports.queries import gap_report\n",
        "reports/queries.py": "def gap_report():\n    from perception.invitations.service import invite\n",
        "invitations/service.py": "def invite():\n    pass\n",
    })
    problems = upward_imports(planted)
    assert any("perception.core.models imports perception.reports.queries" in p for p in problems)
    assert any("perception.reports.queries imports perception.invitations.service" in p for p in problems)


def test_a_planted_cycle_private_name_and_role_break_fail(tmp_path):
    planted = plant(tmp_path, {
        "reports/queries.py": "from perception.reports.service import _cells\nfrom flask import request\n",
        "reports/service.py": "import perception.reports.queries\n_cells = 1\n",
        "reports/views.py": "from sqlalchemy import select\nfrom perception.insights import OUTCOMES, describe\n"
                           "from perception.reports import service\nservice._cells\n",
    })
    assert cycles(graph(planted)) == [["perception.reports.queries", "perception.reports.service"]]
    private = private_imports(planted)
    assert any("private name _cells" in p for p in private) and any("service._cells" in p for p in private)
    roles = role_problems(planted)
    assert any("a view imports sqlalchemy" in p for p in roles)
    assert any("a view imports perception.insights ['OUTCOMES', 'describe']" in p for p in roles)
    assert any("reads the request" in p for p in roles)


def test_a_planted_loose_module_and_long_module_fail(tmp_path):
    planted = plant(tmp_path, {f"loose{i}.py": "x = 1\n" * (400 if i == 0 else 1) for i in range(5)})
    problems = size_problems(planted)
    assert any("5 loose modules" in p for p in problems) and any("loose0 has 400 lines" in p for p in problems)
