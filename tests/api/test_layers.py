"""The gateway's rooms import only downwards (docs/contributors.md, Gateway layout).

    api.main  ->  api.http  ->  api.services  ->  api.settings  ->  api.write | api.read
              ->  api.chain | api.store  ->  api.errors  ->  returntrace

A module may import its own room and any room below it; rooms on one level (write and read,
chain and store) do not import each other. Read from the source (every import statement,
including those inside functions), so no chain is needed.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

# Room -> level: lower numbers are higher up.
LEVELS = {
    "api.main": 0,
    "api.http": 1,
    "api.services": 2,
    "api.settings": 3,
    "api.write": 4,
    "api.read": 4,
    "api.chain": 5,
    "api.store": 5,
    "api.errors": 6,
    "returntrace": 7,
}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _room(module: str) -> str | None:
    """The longest room the module belongs to; None for modules outside the layering (third parties)."""
    found = [room for room in LEVELS if module == room or module.startswith(room + ".")]
    return max(found, key=len) if found else None


def _imports(module: str, source: str, is_package: bool = False) -> list[tuple[int, str]]:
    """(line, absolute module) of every import in `source` (the text of `module`), relative ones resolved."""
    package = module if is_package else module.rpartition(".")[0]
    out = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            out += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parts = package.split(".")
                target = ".".join(parts[: len(parts) - (node.level - 1)] + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            # `from . import x` may name a module: judge the module, not its package.
            out += [(node.lineno, f"{target}.{alias.name}" if not node.module else target) for alias in node.names]
    return out


def violations(module: str, source: str, is_package: bool = False) -> list[str]:
    """The imports of `module` that go up a level or sideways to another room of its level."""
    here = _room(module)
    if here is None:
        return []
    wrong = []
    for line, target in _imports(module, source, is_package):
        there = _room(target)
        if there is not None and there != here and LEVELS[there] <= LEVELS[here]:
            wrong.append(f"line {line}: {target} ({there}, level {LEVELS[there]}) from {here} (level {LEVELS[here]})")
    return wrong


SOURCES = sorted([*ROOT.glob("api/**/*.py"), *ROOT.glob("returntrace/**/*.py")])


def test_every_gateway_module_is_in_a_room():
    homeless = [_module_name(p) for p in SOURCES if _room(_module_name(p)) is None and _module_name(p) != "api"]
    assert homeless == [], f"modules outside every room (add them to a room, or a room to LEVELS): {homeless}"


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(ROOT)))
def test_imports_go_down_only(path):
    wrong = violations(_module_name(path), path.read_text(), path.name == "__init__.py")
    assert wrong == [], "imports up or sideways:\n" + "\n".join(wrong)


def test_the_checker_sees_upward_and_sideways_imports():
    assert violations("api.write.intake", "from ..http.routes import messages")  # up: write -> http
    assert violations("api.read.indexer", "def f():\n    from ..write import relayer")  # sideways, inside a function
    assert violations("api.store.outbox", "import api.chain.client")  # sideways: store -> chain
    assert violations("returntrace.history.records", "from api.read import rows")  # the library never imports the gateway
    assert violations("api.http.routes.messages", "from ...write import intake\nfrom ..deps import IntakeDep\nimport fastapi") == []
    assert violations("api.read", "from . import views", is_package=True) == []
