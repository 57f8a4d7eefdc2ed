"""The layout keeps the architecture: small modules, no import cycles, nothing reaching up the
data path (request → signatures → policy → shares → restreamer/door → audit; `app.py` wires it)."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = {
    "rtcc_gateway": ROOT / "addon" / "rtcc_gateway",
    "custom_components.rtcc_share": ROOT / "custom_components" / "rtcc_share",
}
MAX_LINES = 400
# The ratchet: a module still over MAX_LINES, with the count it may not exceed. Entries may only
# shrink, and must be removed once the module is under MAX_LINES (test_the_ratchet_only_holds_...).
# Empty today: every module keeps the rule.
OVER_THE_LIMIT: dict[str, int] = {}


def modules() -> Iterator[tuple[str, Path]]:
    for package, folder in PACKAGES.items():
        for path in sorted(folder.rglob("*.py")):
            rel = path.relative_to(folder).with_suffix("")
            parts = [p for p in rel.parts if p != "__init__"]
            yield ".".join([package, *parts]), path


def imports_of(name: str, path: Path) -> set[str]:
    """Every project module `name` imports, type-only imports included."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    known = dict(modules())
    return {m for m in found if m in known and m != name}


GRAPH = {name: imports_of(name, path) for name, path in modules()}


@pytest.mark.parametrize(("name", "path"), list(modules()), ids=[n for n, _ in modules()])
def test_every_module_is_small(name: str, path: Path) -> None:
    lines = len(path.read_text(encoding="utf-8").splitlines())
    limit = OVER_THE_LIMIT.get(name, MAX_LINES)
    assert lines <= limit, f"{name} has {lines} lines (at most {limit}): split it by job"


def test_the_ratchet_only_holds_modules_still_over_the_limit() -> None:
    known = dict(modules())
    for name, limit in OVER_THE_LIMIT.items():
        assert name in known, f"{name} is gone: remove it from OVER_THE_LIMIT"
        lines = len(known[name].read_text(encoding="utf-8").splitlines())
        assert lines > MAX_LINES, f"{name} is {lines} lines now: remove it from OVER_THE_LIMIT"
        assert limit <= lines, f"{name}: lower its OVER_THE_LIMIT entry to {lines}"


def test_no_import_cycles() -> None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(GRAPH[node]):
            if state.get(nxt) == 1:
                cycle = [*stack[stack.index(nxt) :], nxt]
                raise AssertionError("import cycle: " + " -> ".join(cycle))
            if nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = 2

    for node in sorted(GRAPH):
        if node not in state:
            visit(node)


# Who may not import whom: the data path only ever calls down; `app.py` wires the parts.
FORBIDDEN = {
    "rtcc_gateway.policy": (
        "rtcc_gateway.store",
        "rtcc_gateway.shares",
        "rtcc_gateway.app",
        "rtcc_gateway.api",
        "rtcc_gateway.door",
        "rtcc_gateway.restreamer",
    ),
    "rtcc_gateway.signatures": (
        "rtcc_gateway.shares",
        "rtcc_gateway.app",
        "rtcc_gateway.api",
        "rtcc_gateway.door",
        "rtcc_gateway.restreamer",
    ),
    "rtcc_gateway.audit": (
        "rtcc_gateway.shares",
        "rtcc_gateway.app",
        "rtcc_gateway.api",
        "rtcc_gateway.door",
        "rtcc_gateway.restreamer",
    ),
    "rtcc_gateway.door": ("rtcc_gateway.app", "rtcc_gateway.api", "rtcc_gateway.shares"),
    "rtcc_gateway.restreamer": (
        "rtcc_gateway.app",
        "rtcc_gateway.api",
        "rtcc_gateway.shares",
        "rtcc_gateway.door",
    ),
    "rtcc_gateway.shares": ("rtcc_gateway.app", "rtcc_gateway.api"),
    "rtcc_gateway.api": ("rtcc_gateway.app",),
}


def test_nothing_reaches_up_the_data_path() -> None:
    problems = []
    for name, targets in sorted(GRAPH.items()):
        for low, highs in FORBIDDEN.items():
            if name != low and not name.startswith(f"{low}."):
                continue
            problems += [
                f"{name} imports {t}"
                for t in sorted(targets)
                if any(t == h or t.startswith(f"{h}.") for h in highs)
            ]
    assert not problems, "\n".join(problems)


def test_the_gateway_has_no_home_assistant_imports() -> None:
    for name, path in modules():
        if not name.startswith("rtcc_gateway"):
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom | ast.Import):
                names = (
                    [node.module or ""]
                    if isinstance(node, ast.ImportFrom)
                    else [a.name for a in node.names]
                )
                assert not any(n.startswith("homeassistant") for n in names), name
