"""benchmarks/RESULTS.md from the measurements of ``bench.py``: machine, versions, tables."""

from __future__ import annotations

import os
import platform
import statistics
import subprocess
import sys
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

TARGETS = {"pandas json_normalize": 15.0, "dlt (filesystem, Parquet)": 20.0}
FLATTEN = "flatten (this provider)"


def _version(dist: str) -> str:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "not installed"


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _mem_gb() -> float:
    try:
        first = Path("/proc/meminfo").read_text().splitlines()[0]
        return int(first.split()[1]) / 1e6
    except (OSError, IndexError, ValueError):
        return 0.0


def _dlt_version() -> str:
    py = os.environ.get(
        "BENCH_DLT_PYTHON", str(Path(__file__).parent.parent / ".venv-dlt/bin/python")
    )
    if not Path(py).exists():
        return "not installed (dlt rows skipped)"
    done = subprocess.run(  # noqa: PLW1510 (a failure reads as "unknown")
        [py, "-c", "import dlt; print(dlt.__version__)"], capture_output=True, text=True
    )
    return done.stdout.strip() or "unknown"


def _pg_version() -> str:
    try:
        import psycopg2

        con = psycopg2.connect(host="127.0.0.1", dbname="test", user="postgres", connect_timeout=3)
        version = str(con.server_version)
        con.close()
        return f"{int(version[:2])}.{int(version[-2:])}"
    except Exception as exc:  # the report says why instead of failing
        return f"unreachable ({type(exc).__name__})"


def _row(cells: list[Any]) -> str:
    return "| " + " | ".join(str(c) for c in cells) + " |"


class Report:
    """Sections of RESULTS.md, written after every section (a long run keeps what it has)."""

    def __init__(
        self, path: Path, scale: str, sizes: dict[str, Any], runs: int, command: str
    ) -> None:
        self.path = path
        self.scale, self.sizes, self.runs = scale, sizes, runs
        self.command = command  # the exact command line, environment knobs included
        self.started = datetime.now(UTC)
        self.load_start = os.getloadavg()
        self.parts: list[str] = []
        self.loads: list[float] = []

    def _seen(self, m: dict[str, Any]) -> None:
        self.loads.append(m["load"])

    def flatten(self, labels: int, layout: str, mb: float, res: dict[str, Any]) -> None:
        """One size and layout: every contender, with its ratio to the flattener."""
        head = ["contender", "wall s, median [runs]", "CPU s", "labels/s (wall)", "MB/s (wall)",
                "peak RSS MB", "x flatten (wall)", "x flatten (CPU)", "load avg"]  # fmt: skip
        lines = [f"\n#### {labels:,} labels, {layout} ({mb:,.0f} MB)\n", _row(head),
                 _row(["---"] * len(head))]  # fmt: skip
        base = res[FLATTEN]
        for name, m in res.items():
            self._seen(m)
            wall, cpu = m["wall"], m["cpu"]
            lines.append(_row([name, f"{wall:.2f} {m['walls']}", f"{cpu:.2f}",
                               f"{labels / wall:,.0f}", f"{mb / wall:.1f}", f"{m['rss_mb']:.0f}",
                               f"{wall / base['wall']:.2f}", f"{cpu / base['cpu']:.2f}",
                               f"{m['load']:.1f}"]))  # fmt: skip
        for name, target in TARGETS.items():
            if name in res:
                got = res[name]["cpu"] / base["cpu"]
                verdict = "met" if got >= target else "**missed**"
                lines.append(
                    f"\n{name}: {got:.1f}x the flattener's CPU time "
                    f"(target {target:.0f}x: {verdict})"
                )
        if labels > self.sizes["contenders_up_to"]:
            lines.append(
                f"\npandas and dlt not run at {labels:,} labels: scale {self.scale} runs them up "
                f"to {self.sizes['contenders_up_to']:,} labels (at 2,000,000 pandas needs ~120 GB "
                "and dlt ten times its 200,000-label CPU time, 30-36 min per layout here; see "
                "docs/performance.md)."
            )
        lines.append(f"\nflattener peak RSS {base['rss_mb']:.0f} MB (target < 300 MB)")
        self.parts.append("\n".join(lines))
        self._layout_ratio(labels, layout, base)

    def _layout_ratio(self, labels: int, layout: str, base: dict[str, Any]) -> None:
        key = (labels,)
        store = getattr(self, "_lines", {})
        self._lines = store
        if layout == "v1 one per line":
            store[key] = base
        elif layout == "v1 single-line array" and key in store:
            wall = base["wall"] / store[key]["wall"]
            cpu = base["cpu"] / store[key]["cpu"]
            self.parts.append(f"\nsingle-line array / one per line, flattener: wall {wall:.2f}x, "
                              f"CPU {cpu:.2f}x (target <= 1.3x)")  # fmt: skip

    def e2e(self, labels: int, fmt: str, m: dict[str, Any]) -> None:
        """One catch-up from the emulator to a committed batch."""
        self._seen(m)
        if not any("End to end" in p for p in self.parts):
            self.parts.append(
                "\n### End to end: emulator to committed batch (one catch-up run)\n\n"
                "The emulator is a process of its own (`labelbox-emulator serve`): wall time, "
                "CPU time and peak RSS are the worker's (with a two-process flatten's second "
                "process: CPU of both, RSS summed), the emulator's left out.\n\n"
                + _row(
                    [
                        "format",
                        "labels",
                        "wall s, median [runs]",
                        "CPU s",
                        "labels/s (wall)",
                        "peak RSS MB",
                        "load avg",
                    ]
                )
                + "\n"
                + _row(["---"] * 7)
            )
        labels_out = m["out"]["labels"]
        self.parts[-1] += "\n" + _row([fmt, f"{labels_out:,} (project {labels:,})",
                                       f"{m['wall']:.2f} {m['walls']}", f"{m['cpu']:.2f}",
                                       f"{labels_out / m['seconds']:,.0f}", f"{m['rss_mb']:.0f}",
                                       f"{m['load']:.1f}"])  # fmt: skip

    def incremental(self, labels: int, runs: list[dict[str, Any]]) -> None:
        """Windows with a share of the project changed: time follows the changes."""
        for m in runs:
            self._seen(m)
        initial = statistics.median(m["out"]["initial_seconds"] for m in runs)
        lines = [f"\n### Incremental cost: project of {labels:,} labels (v2)\n",
                 f"Initial catch-up (whole project): {initial:.2f} s wall (median). Then one "
                 "window per row: the emulator's clock moves 1 h with `label_updated` events "
                 "for that share of the labels (random labels: 100 % of events touch fewer "
                 "distinct labels), and one run mirrors it.\n",
                 _row(["changed", "events", "labels exported", "wall s, median", "CPU s, median"]),
                 _row(["---"] * 5)]  # fmt: skip
        for i, w in enumerate(runs[0]["out"]["windows"]):
            same = [m["out"]["windows"][i] for m in runs]
            lines.append(_row([f"{w['changed_pct']} %", w["events"],
                               statistics.median(x["labels_exported"] for x in same),
                               f"{statistics.median(x['seconds'] for x in same):.2f}",
                               f"{statistics.median(x['cpu'] for x in same):.2f}"]))  # fmt: skip
        self.parts.append("\n".join(lines))

    def video(self, labels: int, latency: float, res: dict[str, Any]) -> None:
        """Frames files: sequential against bounded concurrency."""
        lines = [f"\n### Video frames: {labels} v1 video labels, {latency:.1f} s emulator latency "
                 "per frames file\n", _row(["transfers in flight", "files", "wall s, median",
                 "x sequential", "load avg"]), _row(["---"] * 5)]  # fmt: skip
        seq = res["1 in flight"]["seconds"]
        for name, m in res.items():
            self._seen(m)
            lines.append(_row([name, m["out"]["files"], f"{m['seconds']:.2f} {m['walls']}",
                               f"{seq / m['seconds']:.2f} faster",
                               f"{m['load']:.1f}"]))  # fmt: skip
        self.parts.append("\n".join(lines))

    def warehouse(self, labels: int, res: dict[str, Any]) -> None:
        """First load and forced reload of one batch, per target."""
        lines = [f"\n### Warehouse loads: one batch of {labels:,} labels ({labels:,} data rows, "
                 f"{3 * labels:,} objects)\n", _row(["target", "first load s, median [runs]",
                 "reload s, median", "worker CPU s", "peak RSS MB", "x DuckDB (first load)",
                 "load avg"]), _row(["---"] * 7)]  # fmt: skip
        duck = res["DuckDB"][0]["seconds"]
        for name, (m, all_runs) in res.items():
            self._seen(m)
            firsts = [round(r["out"]["first_load_s"], 2) for r in all_runs]
            reload = statistics.median(r["out"]["reload_s"] for r in all_runs)
            lines.append(_row([name, f"{m['seconds']:.2f} {firsts}", f"{reload:.2f}",
                               f"{m['cpu']:.2f}", f"{m['rss_mb']:.0f}",
                               f"{m['seconds'] / duck:.2f}", f"{m['load']:.1f}"]))  # fmt: skip
        pairs = zip(res["PostgreSQL (ADBC)"][1], res["DuckDB"][1], strict=False)
        ratios = [round(p["out"]["first_load_s"] / d["out"]["first_load_s"], 2) for p, d in pairs]
        lines.append(
            f"\nPostgreSQL / DuckDB per round (same round, back to back): {ratios}. "
            "Worker CPU is the whole process (both loads) and excludes the server's."
        )
        self.parts.append("\n".join(lines))

    def header(self) -> str:
        """Machine, versions, command, and how loaded the machine was."""
        load = f"{min(self.loads):.1f} to {max(self.loads):.1f}" if self.loads else "n/a"
        return "\n".join([
            "# Benchmarks (generated by `make bench`; do not edit by hand)\n",
            f"Scale **{self.scale}** ({self.sizes}), {self.runs} round(s) per figure (median), "
            f"started {self.started:%Y-%m-%d %H:%M} UTC.\n",
            f"Command: `{self.command}`, from the repository root with `PYTHONPATH=connectors` "
            "and the project venv's python, as `make bench` runs it (the same variables set "
            "before `make bench` repeat this run).\n",
            f"Machine: {os.cpu_count()} CPU ({_cpu_model()}), {_mem_gb():.0f} GB RAM, "
            f"{platform.system()} {platform.release()}; Python {sys.version.split()[0]}.\n",
            f"**Noise**: 1-minute load average {self.load_start[0]:.1f} at the start, {load} "
            f"during the runs, {os.getloadavg()[0]:.1f} at the end, on {os.cpu_count()} cores. "
            "With a load above the core count, wall times are inflated and swing run to run; "
            "CPU time (user + sys of the measured process) is the steadier figure.\n",
            "Versions: " + ", ".join(f"{d} {_version(d)}" for d in (
                "pyarrow", "msgspec", "duckdb", "pandas", "adbc-driver-postgresql")) +
            f", dlt {_dlt_version()} (own venv), PostgreSQL {_pg_version()}.\n",
        ])  # fmt: skip

    def save(self) -> None:
        """Write what is measured so far."""
        self.path.write_text(self.header() + "\n## Results\n" + "\n".join(self.parts) + "\n")

    def finish(self) -> None:
        """The final write."""
        self.save()
