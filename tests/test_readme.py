"""The README and the pages of ``docs/`` stay true: quoted DAG regions, tables, commands, options.

* Every code block preceded by ``<!-- quote: dags/<file>.py#<region> -->`` (in the README or a
  docs page) must equal, byte for byte, the lines between ``# [START <region>]`` and
  ``# [END <region>]`` of that file, and every marked region in ``dags/`` must be quoted.
* The table reference (``docs/tables.md``) lists exactly the columns of ``SCHEMAS`` per table.
* Connection extras and exceptions (``docs/hook.md``), operator arguments (``docs/operator.md``),
  CLI subcommands and flags (``docs/cli.md``), emulator options and fault kinds
  (``docs/emulator.md``) exist in the code; make targets and links named anywhere exist.
* The README stays a front door: short, and its map names every page of ``docs/``.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit

REPO = Path(__file__).resolve().parent.parent
README = REPO / "README.md"
DOCS = REPO / "docs"
DAGS = REPO / "dags"
README_MAX_BYTES = 24_000  # a newcomer reads it in ten minutes; the reference lives in docs/

QUOTE = re.compile(
    r"<!-- quote: (?P<path>[^#\s]+)#(?P<region>[\w.-]+) -->\n```\w*\n(?P<body>.*?)```", re.S
)
MARKER = re.compile(r"^\s*# \[(?P<kind>START|END) (?P<region>[\w.-]+)\]\s*$")


def _readme() -> str:
    return README.read_text(encoding="utf-8")


def _doc(name: str) -> str:
    return (DOCS / name).read_text(encoding="utf-8")


def _pages() -> dict[str, str]:
    """The README and every docs page, by path relative to the repository."""
    pages = {"README.md": _readme()}
    for path in sorted(DOCS.glob("*.md")):
        pages[f"docs/{path.name}"] = path.read_text(encoding="utf-8")
    return pages


def _all_text() -> str:
    return "\n".join(_pages().values())


def _regions(path: Path) -> dict[str, str]:
    """``{region: text between its START and END marker lines}`` of one file."""
    regions: dict[str, str] = {}
    open_at: dict[str, int] = {}
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    for i, line in enumerate(lines):
        m = MARKER.match(line)
        if not m:
            continue
        if m["kind"] == "START":
            open_at[m["region"]] = i
        else:
            start = open_at.pop(m["region"])
            regions[m["region"]] = "".join(lines[start + 1 : i])
    assert not open_at, f"{path.name}: unclosed regions {sorted(open_at)}"
    return regions


def _all_regions() -> dict[tuple[str, str], str]:
    found = {}
    for path in sorted(DAGS.glob("*.py")):
        for region, text in _regions(path).items():
            found[(f"dags/{path.name}", region)] = text
    return found


def _section(text: str, title: str) -> str:
    """The body of the ``## title`` section (up to the next level-2 heading)."""
    start = text.index(f"\n## {title}\n")
    end = text.find("\n## ", start + 1)
    return text[start : end if end != -1 else len(text)]


def test_quoted_regions_are_byte_identical() -> None:
    regions = _all_regions()
    assert list(QUOTE.finditer(_readme())), "the README quotes no DAG region"
    for page, text in _pages().items():
        for q in QUOTE.finditer(text):
            key = (q["path"], q["region"])
            assert key in regions, f"{page} quotes {key}, which has no [START]/[END] markers"
            assert q["body"] == regions[key], f"{page}: quote of {key} differs from the DAG file"


def test_every_marked_region_is_quoted() -> None:
    quoted = {(q["path"], q["region"]) for q in QUOTE.finditer(_all_text())}
    missing = set(_all_regions()) - quoted
    assert not missing, f"marked DAG regions quoted nowhere in README/docs: {sorted(missing)}"


def _table_columns(section: str) -> dict[str, list[str]]:
    """``{table: [columns]}`` from the ``### `table` `` headings of the reference section."""
    tables: dict[str, list[str]] = {}
    current = None
    for line in section.splitlines():
        heading = re.match(r"^##+ `(\w+)`\s*$", line)
        if heading:
            current = heading[1]
            tables[current] = []
        elif line.startswith("## "):
            current = None
        elif current is not None:
            cell = re.match(r"^\| `(\w+)` \|", line)
            if cell:
                tables[current].append(cell[1])
    return tables


def test_table_reference_matches_schemas() -> None:
    from labelbox_provider.transforms.tables import LINEAGE_COLUMNS, SCHEMAS

    section = _doc("tables.md")
    listed = _table_columns(section)
    assert set(listed) == set(SCHEMAS), "docs/tables.md tables differ from SCHEMAS"
    for table, schema in SCHEMAS.items():
        expected = [f.name for f in schema if f.name not in LINEAGE_COLUMNS]
        assert listed[table] == expected, f"docs/tables.md columns of {table} differ"
    lineage = re.findall(r"^\| `(\w+)` \|", section.split("Lineage columns", 1)[1], re.M)
    assert lineage == list(LINEAGE_COLUMNS)


def _first_cells(section: str) -> list[str]:
    """Backticked names in the first cell of every Markdown table row of a section."""
    names = []
    for line in section.splitlines():
        m = re.match(r"^\| ((?:`[^`]+`(?:, )?)+) \|", line)
        if m:
            names += re.findall(r"`([^`]+)`", m[1])
    return names


def test_connection_extras_are_the_tunables() -> None:
    from labelbox_provider.hooks.settings import TUNABLE, HookSettings

    section = _section(_doc("hook.md"), "The connection")
    names = [n for n in _first_cells(section) if n != "endpoint"]
    assert sorted(names) == sorted(TUNABLE)
    for name in TUNABLE:  # the documented default is the code's default
        row = re.search(rf"^\| `{name}` \| (?P<default>[^|]+) \|", section, re.M)
        assert row, name
        default = getattr(HookSettings(), name)
        shown = row["default"].strip()
        assert shown == (str(default).lower() if isinstance(default, bool) else f"{default:g}")


def test_operator_arguments_exist() -> None:
    import inspect

    from labelbox_provider.operators.labelbox import LabelboxIncrementalExportOperator as Op

    section = _doc("operator.md")
    table = section.split("| argument | default | meaning |", 1)[1].split("\n\n")[0]
    documented = {n for n in _first_cells(table) if n.isidentifier()}
    params = set(inspect.signature(Op.__init__).parameters) - {"self", "kwargs"}
    assert params <= documented, f"undocumented operator arguments: {sorted(params - documented)}"
    assert documented <= params, sorted(documented - params)
    for field in Op.template_fields:
        assert f"`{field}`" in section.split("**Templated fields:**", 1)[1].split("\n")[0]


def test_asset_event_keys() -> None:
    from labelbox_provider.assets import EVENT_KEYS

    section = _doc("operator.md")
    table = section.split("Its `extra`:", 1)[1].split("\n\n")[1]
    assert re.findall(r"^\| `(\w+)` \|", table, re.M) == list(EVENT_KEYS)


def test_exceptions_exist_and_retry_column_matches() -> None:
    from labelbox_provider import exceptions
    from labelbox_provider.hooks.retry import is_retryable

    section = _section(_doc("hook.md"), "The hook")
    rows = re.findall(
        r"^\| `(\w+(?:Error|Exceeded|Conflict))` \| [^|]+ \| (?P<retried>[^|]+) \|$", section, re.M
    )
    documented = {name for name, _ in rows}
    defined = {
        n
        for n, v in vars(exceptions).items()
        if isinstance(v, type) and n not in {"LabelboxError", "LabelboxProviderError"}
    }
    assert documented == defined
    for name, retried in rows:
        exc = getattr(exceptions, name)("x")
        assert is_retryable(exc) == retried.strip().startswith("yes"), name


def test_cli_subcommands_and_flags_exist() -> None:
    from labelbox_provider.cli.main import build_parser

    parser = build_parser()
    sub = next(a for a in parser._actions if a.choices and "pull" in a.choices)
    section = _doc("cli.md")
    rows = re.findall(r"^\| `(?P<cmd>[\w-]+) (?P<usage>[^`]*)` \|", section, re.M)
    assert {cmd for cmd, _ in rows} == set(sub.choices)
    for cmd, usage in rows:
        known = {o for a in sub.choices[cmd]._actions for o in a.option_strings}
        for flag in re.findall(r"(?<![\w-])(--?[a-z][\w-]*)", usage):
            assert flag in known, f"labelbox-export {cmd}: docs/cli.md shows unknown flag {flag}"
    for line in re.findall(r"^(?:\.venv/bin/)?labelbox-export (.+)$", _all_text(), re.M):
        args = line.split()
        known = {o for a in sub.choices[args[0]]._actions for o in a.option_strings}
        assert {a for a in args if a.startswith("--")} <= known, line


def test_emulator_options_and_faults_exist() -> None:
    from labelbox_provider.emulator.cli import build_parser
    from labelbox_provider.emulator.faults import FAULT_KINDS, FaultRule

    serve = build_parser()._subparsers._group_actions[0].choices["serve"]  # type: ignore[union-attr]
    known = {o for a in serve._actions for o in a.option_strings} - {"-h", "--help"}
    section = _doc("emulator.md")
    table = section.split("| option | default | meaning |", 1)[1].split("\n\n")[0]
    shown = set(re.findall(r"`(--[\w-]+)", table))
    assert shown == known
    faults = section.split("| kind | effect |", 1)[1].split("\n\n")[0]
    assert re.findall(r"^\| `(\w+)` \|", faults, re.M) == list(FAULT_KINDS)
    fields = set(FaultRule.__dataclass_fields__)
    for field in fields - {"seen", "fired"}:  # every rule field is documented
        assert f"`{field}`" in section, field


def test_make_targets_exist() -> None:
    makefile = (REPO / "Makefile").read_text(encoding="utf-8")
    targets = set(re.findall(r"^([\w-]+):", makefile, re.M))
    for target in set(re.findall(r"`make ([a-z][\w-]*)", _all_text())):
        assert target in targets, f"make {target}"


def test_links_to_docs_exist() -> None:
    for page, text in _pages().items():
        base = (REPO / page).parent
        for link in re.findall(r"\]\(([^)#:]+\.md)(?:#[^)]*)?\)", text):
            assert (base / link).is_file(), f"{page} links to {link}, which does not exist"


def test_readme_is_a_front_door() -> None:
    size = len(README.read_bytes())
    assert size <= README_MAX_BYTES, f"README.md is {size} bytes: move reference to docs/"
    linked = set(re.findall(r"\]\(docs/([\w.-]+\.md)\)", _readme()))
    pages = {p.name for p in DOCS.glob("*.md")}
    assert pages <= linked, f"docs pages missing from the README's map: {sorted(pages - linked)}"


def test_ci_runs_the_readmes_test_command() -> None:
    assert "make test" in _readme()
    ci = (REPO / ".ci" / "run").read_text(encoding="utf-8")
    assert re.search(r"^make test$", ci, re.M), ".ci/run must run the README's test command"
