"""The import rules of ``docs/architecture.md`` hold for every module of the package.

The rules are read from the document's table, so the page and the code cannot drift apart:
each module belongs to the longest part name that prefixes it; every ``import`` it makes (at
module level or inside a function) of another part must be listed for its part, and none of
the third-party packages its part forbids may appear.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "connectors" / "labelbox_provider"
DOC = ROOT / "docs" / "architecture.md"
_ROW = re.compile(r"^\| `(?P<part>[\w.]+)` \| (?P<may>[^|]*) \| (?P<never>[^|]*) \|", re.M)


def _names(cell: str) -> set[str]:
    return set(re.findall(r"`([\w.]+)`", cell))


def _rules() -> dict[str, tuple[set[str], set[str]]]:
    section = DOC.read_text(encoding="utf-8").split("## Who may import whom", 1)[1]
    section = section.split("\n## ", 1)[0]
    rules = {m["part"]: (_names(m["may"]), _names(m["never"])) for m in _ROW.finditer(section)}
    assert rules, "the import table of docs/architecture.md was not found"
    return rules


def _module_name(path: Path) -> str:
    rel = path.relative_to(PACKAGE.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _part_of(module: str, parts: set[str]) -> str | None:
    inner = module.removeprefix("labelbox_provider").lstrip(".")
    best = None
    for part in parts:
        if (inner == part or inner.startswith(part + ".")) and (
            best is None or len(part) > len(best)
        ):
            best = part
    return best


def _allowed(other: str, own: str, may: set[str]) -> bool:
    """A part may import itself and its sub-parts, and what it lists (with their sub-parts)."""
    return any(other == part or other.startswith(part + ".") for part in {own, *may})


def _imports(path: Path, module: str) -> Iterator[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                target = ".".join([*base, node.module] if node.module else base)
            else:
                target = node.module or ""
            for alias in node.names:  # ``from pkg import mod`` imports the module pkg.mod
                sub = f"{target}.{alias.name}"
                yield sub if _is_module(sub) else target


def _is_module(dotted: str) -> bool:
    if not dotted.startswith("labelbox_provider."):
        return False
    path = PACKAGE.parent.joinpath(*dotted.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def _modules() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*.py") if "__pycache__" not in p.parts)


def test_every_module_belongs_to_a_documented_part() -> None:
    parts = set(_rules())
    orphans = [_module_name(p) for p in _modules() if _part_of(_module_name(p), parts) is None]
    assert set(orphans) <= {"labelbox_provider"}, orphans


@pytest.mark.parametrize("path", _modules(), ids=_module_name)
def test_imports_follow_the_documented_rules(path: Path) -> None:
    rules = _rules()
    module = _module_name(path)
    own = _part_of(module, set(rules))
    if own is None:  # the package's __init__: provider metadata, imports nothing of its own
        return
    may, never = rules[own]
    bad = []
    for target in _imports(path, module):
        top = target.split(".")[0]
        if top == "labelbox_provider":
            other = _part_of(target, set(rules))
            if other is not None and not _allowed(other, own, may):
                bad.append(f"{target} (part {other})")
        elif top in never:
            bad.append(f"{target} (forbidden for {own})")
    assert bad == [], f"{module} ({own}) imports {bad}"


def test_a_violation_is_caught(tmp_path: Path) -> None:
    """The checker is not vacuous: a transforms module importing the hook is flagged."""
    rules = _rules()
    may, never = rules["transforms"]
    assert "hooks" not in may and "airflow" in never
    probe = tmp_path / "probe.py"
    probe.write_text("import airflow\nfrom labelbox_provider.hooks.labelbox import LabelboxHook\n")
    found = list(_imports(probe, "labelbox_provider.transforms.probe"))
    assert "airflow" in found and "labelbox_provider.hooks.labelbox" in found
