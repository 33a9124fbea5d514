"""The bench package's modules import each other in one direction only (no cycles, function-level imports included).

The child side of each runner (what ``python -m hwbench.bench.child`` loads) imports nothing of the parent side.
"""

from __future__ import annotations

import ast
from pathlib import Path

import hwbench.bench

BENCH = Path(hwbench.bench.__file__).parent


def _imports() -> dict[str, set[str]]:
    """bench module -> the bench modules it imports, anywhere in the file."""
    out: dict[str, set[str]] = {}
    for p in sorted(BENCH.glob("*.py")):
        deps: set[str] = set()
        for node in ast.walk(ast.parse(p.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module:
                if node.module == "hwbench.bench":
                    deps |= {a.name for a in node.names}
                elif node.module.startswith("hwbench.bench."):
                    deps.add(node.module.split(".")[2])
            elif isinstance(node, ast.Import):
                deps |= {a.name.split(".")[2] for a in node.names if a.name.startswith("hwbench.bench.")}
        out[p.stem] = deps - {p.stem}
    return out


def _reach(graph: dict[str, set[str]], start: str) -> set[str]:
    seen: set[str] = set()
    todo = [start]
    while todo:
        for d in graph.get(todo.pop(), set()):
            if d not in seen:
                seen.add(d)
                todo.append(d)
    return seen


def test_no_import_cycles_in_bench() -> None:
    graph = _imports()
    cycles = sorted(m for m in graph if m != "__init__" and m in _reach(graph, m))
    assert cycles == [], f"modules on an import cycle: {cycles}"


def test_child_side_does_not_import_the_parent_side() -> None:
    graph = _imports()
    child_side = {"child"} | _reach(graph, "child")
    parent_side = {"orchestrate", "llamacpp_part", "torch_part", "target", "predict", "options", "records"}
    assert child_side & parent_side == set()
    assert {"runner_llamacpp", "runner_torch"} <= child_side
