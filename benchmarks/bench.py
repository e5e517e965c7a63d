"""``make bench``: every comparison of issue 16 in one run; one table, and benchmarks/RESULTS.md.

Each measurement is a child process (``bench_cases.py``, ``dlt_contender.py`` in its own venv,
``warehouse_load.py --child``) timed from here with ``os.wait4``: wall time, CPU time (user +
sys of the child) and peak RSS are the child's own. Contenders of one size run interleaved,
round by round, so they see the same machine; the figure is the median of the rounds. The
1-minute load average is sampled around every run: on a shared machine, compare CPU times.
Times are the work as the child timed it (wall, and CPU of all its threads by
``time.process_time``), interpreter start-up and imports excluded; peak RSS is the process's.

    BENCH_SCALE=small python benchmarks/bench.py     # a quick run (minutes)
    BENCH_SCALE=full  python benchmarks/bench.py     # the issue's sizes (hours, ~40 GB disk)

Environment: BENCH_SCALE (small | medium | full), BENCH_RUNS (rounds, default 3),
BENCH_WORKDIR (input files, default /tmp/lbx-bench), BENCH_DLT_PYTHON (default
.venv-dlt/bin/python), BENCH_ONLY (comma list of sections: flatten,e2e,incremental,video,
warehouse), BENCH_FLATTEN_SIZES (comma list of label counts replacing the scale's flatten
sizes, e.g. ``200000``), BENCH_CONTENDERS (comma list of the flatten section's contenders:
flatten,floor,pandas,dlt, and flatten1 / flatten2: the flattener forced to one / two processes
beside its automatic choice; the flattener always runs), BENCH_RESULTS (default
benchmarks/RESULTS.md). RESULTS.md states the
command line with every ``BENCH_*`` variable that was set, so the run can be repeated.
"""

from __future__ import annotations

import json
import os
import shlex
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from bench_report import Report  # noqa: E402

SCALES: dict[str, dict[str, Any]] = {
    # flatten sizes; pandas and dlt run up to `contenders_up_to` labels (beyond: skipped)
    "small": {"flatten": [5_000], "contenders_up_to": 5_000, "e2e": 5_000, "incremental": 5_000,
              "video": 24, "warehouse": 10_000},
    "medium": {"flatten": [20_000], "contenders_up_to": 20_000, "e2e": 20_000,
               "incremental": 20_000, "video": 48, "warehouse": 100_000},
    "full": {"flatten": [200_000, 2_000_000], "contenders_up_to": 200_000, "e2e": 1_000_000,
             "incremental": 1_000_000, "video": 200, "warehouse": 100_000},
}  # fmt: skip
LATENCY = 0.2  # seconds per frames file: a signed-URL fetch across an ocean, first byte
PY = sys.executable
CONTENDERS = "flatten,floor,pandas,dlt"  # the flatten section's, BENCH_CONTENDERS
CASES = str(HERE / "bench_cases.py")


def _rss_kb(pid: int) -> int:
    """VmRSS of ``pid`` in kB (0 once it has exited)."""
    try:
        with open(f"/proc/{pid}/status", "rb") as fp:
            for line in fp:
                if line.startswith(b"VmRSS:"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


def _tree(pid: int, skip: frozenset[int] = frozenset()) -> list[int]:
    """``pid`` and its descendants (Linux ``/proc/<pid>/task/*/children``), without the
    processes of ``skip`` and theirs."""
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        if current in skip:
            continue
        found.append(current)
        for children in Path(f"/proc/{current}/task").glob("*/children"):
            try:
                todo.extend(int(c) for c in children.read_text().split())
            except OSError:
                continue
    return found


class TreeRss:
    """Samples the summed VmRSS of a process and its descendants every ``interval`` seconds
    (a flattener's worker process included); the peak of the sum, and each process's own."""

    def __init__(
        self, pid: int, interval: float = 0.05, skip: frozenset[int] = frozenset()
    ) -> None:
        self.pid, self.interval, self.skip = pid, interval, skip
        self.peak_kb = 0
        self.own_kb: dict[int, int] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            total = 0
            for pid in _tree(self.pid, self.skip):
                rss = _rss_kb(pid)
                total += rss
                self.own_kb[pid] = max(self.own_kb.get(pid, 0), rss)
            self.peak_kb = max(self.peak_kb, total)

    def stop(self) -> dict[str, Any]:
        """Stop sampling; the peaks in MB (``tree_rss_mb``: the sum; ``rss_each_mb``: each
        process's own peak, the measured process first)."""
        self._stop.set()
        self._thread.join()
        own = [self.own_kb.get(self.pid, 0)] + [
            kb for pid, kb in self.own_kb.items() if pid != self.pid
        ]
        return {"tree_rss_mb": self.peak_kb / 1024, "rss_each_mb": [kb / 1024 for kb in own]}


def measure(
    cmd: list[str], env: dict[str, str] | None = None, *, tree: bool = False
) -> dict[str, Any]:
    """Run ``cmd``; its wall, CPU and peak RSS (os.wait4), the load average, its JSON line.

    CPU counts the processes the child waited for (a flattener's worker). ``tree_rss_mb`` is
    the peak of the summed RSS of the child and its descendants, sampled every 50 ms; with
    ``tree`` it is the run's ``rss_mb`` when above the child's own peak (a flattener and its
    worker process: the memory they take together)."""
    load0 = os.getloadavg()[0]
    start = time.perf_counter()
    with tempfile.TemporaryFile() as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.DEVNULL, env=env)
        sampler = TreeRss(proc.pid)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        sampled = sampler.stop()
        out.seek(0)
        lines = out.read().decode().strip().splitlines()
    if status != 0:
        raise RuntimeError(f"failed ({status}): {' '.join(cmd)}")
    # a child that runs a server of its own (the emulator) reports the worker's peak RSS itself
    out_line = json.loads(lines[-1])
    return {
        "wall": wall,
        "cpu": usage.ru_utime + usage.ru_stime,
        "rss_mb": max(usage.ru_maxrss / 1024, sampled["tree_rss_mb"] if tree else 0),
        **sampled,
        "load": (load0 + os.getloadavg()[0]) / 2,
        "out": out_line,
    } | ({"rss_mb": out_line["rss_mb"]} if "rss_mb" in out_line else {})


def median_of(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Medians of wall, CPU, RSS, load and of the child's own seconds."""
    keys = ("wall", "cpu", "rss_mb", "load")
    out = {
        f"proc_{k}" if k in ("wall", "cpu") else k: statistics.median(r[k] for r in runs)
        for k in keys
    }
    # the work itself, as the child timed it (interpreter start-up and imports excluded)
    out["wall"] = out["seconds"] = statistics.median(r["out"]["seconds"] for r in runs)
    out["cpu"] = statistics.median(r["out"].get("cpu", r["cpu"]) for r in runs)
    out["walls"] = [round(r["out"]["seconds"], 2) for r in runs]
    out["out"] = runs[len(runs) // 2]["out"]
    return out


def rounds(
    cmds: dict[str, list[str]], n: int, env: dict[str, str] | None = None, *, tree: bool = False
) -> dict[str, Any]:
    """Every command once per round, ``n`` rounds; the medians per command (``tree``: see
    :func:`measure`)."""
    runs: dict[str, list[dict[str, Any]]] = {k: [] for k in cmds}
    for _ in range(n):
        for name, cmd in cmds.items():
            runs[name].append(measure(cmd, env, tree=tree))
    return {name: median_of(r) for name, r in runs.items()}


def inputs(workdir: Path, labels: int) -> dict[str, Path]:
    """The synthetic exports of ``labels`` labels: v1 one per line, v1 single line, v2."""
    from flatten_synthetic import write_export
    from flatten_v2_bench import write_export as write_v2

    workdir.mkdir(parents=True, exist_ok=True)
    files = {
        "v1 one per line": workdir / f"v1_{labels}_lines.json",
        "v1 single-line array": workdir / f"v1_{labels}_array.json",
        "v2 NDJSON": workdir / f"v2_{labels}.ndjson",
    }
    if not files["v1 one per line"].exists():
        write_export(files["v1 one per line"], labels)
    if not files["v1 single-line array"].exists():
        one_line(files["v1 one per line"], files["v1 single-line array"])
    if not files["v2 NDJSON"].exists():
        write_v2(files["v2 NDJSON"], labels)
    return files


def v2_project(path: Path) -> str:
    """The project of the synthetic v2 export (its first record's only project): the flattener
    mirrors one project, so with any other id it would skip every label."""
    import msgspec

    with path.open("rb") as fp:
        first = msgspec.json.decode(fp.readline())
    (project,) = first["projects"]
    return str(project)


def one_line(src: Path, dest: Path) -> None:
    """The same records as one compact JSON array on a single line (a re-serialised file)."""
    with src.open("rb") as fp, dest.open("wb") as out:
        out.write(b"[")
        first = True
        for line in fp:
            record = line.strip().rstrip(b",")
            if record[:1] == b"{":
                out.write(record if first else b"," + record)
                first = False
        out.write(b"]")


def flatten_section(report: Report, scale: dict[str, Any], runs: int, workdir: Path) -> None:
    """Flatten against the decode floor, pandas and dlt, per size and layout."""
    dlt_py = os.environ.get("BENCH_DLT_PYTHON", str(HERE.parent / ".venv-dlt" / "bin" / "python"))
    contenders = set(os.environ.get("BENCH_CONTENDERS", CONTENDERS).split(","))
    for labels in scale["flatten"]:
        files = inputs(workdir, labels)
        for layout, src in files.items():
            out = str(workdir / "out")
            flatten = [PY, CASES, "flatten", "--src", str(src), "--out", out]
            if layout.startswith("v2"):  # the flattener keeps only the lineage project's labels
                flatten += ["--project", v2_project(src)]
            cmds = {"flatten (this provider)": flatten}  # processes: automatic
            if "flatten1" in contenders:
                cmds["flatten, one process"] = [*flatten, "--processes", "1"]
            if "flatten2" in contenders:
                cmds["flatten, two processes"] = [*flatten, "--processes", "2"]
            floor = files["v2 NDJSON"] if layout.startswith("v2") else files["v1 one per line"]
            if "floor" in contenders:
                cmds["msgspec decode floor"] = [PY, CASES, "decode", "--src", str(floor)]
            if labels <= scale["contenders_up_to"]:
                case = "pandas_v2" if layout.startswith("v2") else "pandas_v1"
                if "pandas" in contenders:
                    cmds["pandas json_normalize"] = [
                        PY, CASES, case, "--src", str(src), "--out", out,
                    ]  # fmt: skip
                if "dlt" in contenders and Path(dlt_py).exists():
                    cmds["dlt (filesystem, Parquet)"] = [
                        dlt_py, str(HERE / "dlt_contender.py"), "--src", str(src),
                        "--out", out + "-dlt",
                    ]  # fmt: skip
            results = rounds(cmds, runs, tree=True)  # RSS: the flattener's worker included
            report.flatten(labels, layout, src.stat().st_size / 1e6, results)
            report.save()


def e2e_section(report: Report, scale: dict[str, Any], runs: int) -> None:
    """A catch-up of a project of N labels from the emulator to a committed batch."""
    for fmt in ("v1", "v2"):
        cmd = [PY, CASES, "e2e", "--labels", str(scale["e2e"]), "--format", fmt]
        report.e2e(scale["e2e"], fmt, rounds({fmt: cmd}, runs)[fmt])
    report.save()


def incremental_section(report: Report, scale: dict[str, Any], runs: int) -> None:
    """Windows with 0/1/10/100 % of the project's labels changed."""
    cmd = [PY, CASES, "incremental", "--labels", str(scale["incremental"])]
    report.incremental(scale["incremental"], [measure(cmd) for _ in range(runs)])
    report.save()


def video_section(report: Report, scale: dict[str, Any], runs: int) -> None:
    """v1 frames files fetched one at a time against the hook's bounded concurrency."""
    base = [PY, CASES, "video", "--labels", str(scale["video"]), "--latency", str(LATENCY)]
    cmds = {f"{w} in flight": [*base, "--workers", str(w)] for w in (1, 4, 8)}
    report.video(scale["video"], LATENCY, rounds(cmds, runs))
    report.save()


def warehouse_section(report: Report, scale: dict[str, Any], runs: int) -> None:
    """One committed batch loaded into DuckDB and into PostgreSQL (ADBC), then reloaded."""
    import uuid

    import psycopg2
    from warehouse_load import make

    labels = scale["warehouse"]
    d = Path(tempfile.mkdtemp(prefix="lbx-bench-wh-"))
    bid = make(d / "mirror", labels)
    env = {**os.environ, "AIRFLOW_CONN_LBX_BENCH": "postgresql://postgres@127.0.0.1:5432/test"}
    results: dict[str, list[dict[str, Any]]] = {"DuckDB": [], "PostgreSQL (ADBC)": []}
    schemas = []
    for n in range(runs):
        schemas.append(f"lbx_bench_{uuid.uuid4().hex[:8]}")
        targets = {
            "DuckDB": f"duckdb://{d}/wh{n}.duckdb",
            "PostgreSQL (ADBC)": f"postgres://lbx_bench/{schemas[-1]}",
        }
        for name, target in targets.items():
            cmd = [PY, str(HERE / "warehouse_load.py"), "--child", target, str(d / "mirror"), bid]
            r = measure(cmd, env)
            r["out"]["seconds"] = r["out"]["first_load_s"]
            results[name].append(r)
    con = psycopg2.connect(host="127.0.0.1", dbname="test", user="postgres")
    con.autocommit = True
    for schema in schemas:
        con.cursor().execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    con.close()
    report.warehouse(labels, {k: (median_of(v), v) for k, v in results.items()})
    report.save()


SECTIONS: dict[str, Callable[..., None]] = {
    "flatten": flatten_section,
    "e2e": e2e_section,
    "incremental": incremental_section,
    "video": video_section,
    "warehouse": warehouse_section,
}


def flatten_sizes(scale: dict[str, Any], knob: str | None) -> list[int]:
    """The flatten sizes: ``BENCH_FLATTEN_SIZES`` (a comma list of label counts, ``_`` allowed)
    if set, else the scale's."""
    if not knob:
        return list(scale["flatten"])
    sizes = [int(part.replace("_", "")) for part in knob.split(",") if part.strip()]
    if not sizes or min(sizes) <= 0:
        raise SystemExit(f"BENCH_FLATTEN_SIZES: positive label counts expected, not {knob!r}")
    return sizes


def command_line(environ: dict[str, str] | os._Environ[str]) -> str:
    """This run's command with every ``BENCH_*`` variable it was given (sorted), as typed."""
    knobs = [f"{k}={shlex.quote(v)}" for k, v in sorted(environ.items()) if k.startswith("BENCH_")]
    return " ".join([*knobs, "python", "benchmarks/bench.py"])


def main() -> None:
    """Run the sections of the chosen scale; print the table; write RESULTS.md."""
    name = os.environ.get("BENCH_SCALE", "full")
    scale = dict(SCALES[name])
    scale["flatten"] = flatten_sizes(scale, os.environ.get("BENCH_FLATTEN_SIZES"))
    runs = int(os.environ.get("BENCH_RUNS", "3"))
    workdir = Path(os.environ.get("BENCH_WORKDIR", "/tmp/lbx-bench"))
    only = [s for s in os.environ.get("BENCH_ONLY", ",".join(SECTIONS)).split(",") if s]
    results = Path(os.environ.get("BENCH_RESULTS", str(HERE / "RESULTS.md")))
    report = Report(results, name, scale, runs, command_line(os.environ))
    for section in only:
        fn = SECTIONS[section]
        args = (report, scale, runs, workdir) if section == "flatten" else (report, scale, runs)
        fn(*args)
    report.finish()
    print(results.read_text())


if __name__ == "__main__":
    main()
