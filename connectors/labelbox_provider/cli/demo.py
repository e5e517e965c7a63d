"""``make demo`` (``python -m labelbox_provider.cli.demo``): the whole product in one command.

Starts the Labelbox emulator with a project of every asset type, runs the example incremental
DAG with ``dag.test()`` over several simulated days of activity (in a private Airflow home with
a SQLite database), loads every committed batch into DuckDB, prints a readable summary on
stdout (progress goes to stderr) and stops the emulator. Output goes to ``./demo-output/``:
``mirror/`` (the Parquet mirror), ``warehouse.duckdb`` and ``airflow-home/``.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from labelbox_provider.cli._common import positive_int

MARKER = ".labelbox-demo"  # file that marks a folder as the demo's own (safe to wipe)
DEFAULT_OUT = Path("demo-output")  # relative to the current directory


def prepare_output(out: Path) -> Path:
    """Create ``out`` empty; wipe it only if an earlier demo made it (it holds the marker)."""
    out = out.resolve()
    if out.exists():
        if not (out / MARKER).exists() and any(out.iterdir()):
            raise SystemExit(f"error: {out} exists and was not made by the demo; pick --out")
        shutil.rmtree(out)
    out.mkdir(parents=True)
    (out / MARKER).write_text("made by labelbox_provider.cli.demo; deleted by the next run\n")
    return out


def airflow_environment(out: Path, dags_folder: Path) -> None:
    """A private Airflow home (never the user's), set before Airflow is first imported."""
    if "airflow" in sys.modules:
        raise RuntimeError("the demo must set Airflow's environment before Airflow is imported")
    os.environ["AIRFLOW_HOME"] = str(out / "airflow-home")
    os.environ["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"
    os.environ["AIRFLOW__CORE__DAGS_FOLDER"] = str(dags_folder)
    os.environ.setdefault("AIRFLOW__LOGGING__LOGGING_LEVEL", "WARNING")


def build_parser() -> argparse.ArgumentParser:
    """Options of the demo (the defaults are what ``make demo`` runs)."""
    p = argparse.ArgumentParser(prog="python -m labelbox_provider.cli.demo", description=__doc__)
    p.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output folder (demo-output)")
    p.add_argument("--days", type=positive_int, default=5, help="simulated days (5)")
    p.add_argument("--labels-per-project", type=positive_int, default=40, help="initial labels")
    p.add_argument("--seed", type=int, default=7, help="world seed")
    return p


def _next_steps(out: Path, project_id: str) -> str:
    exe = Path(sys.executable).with_name("labelbox-export")
    cli = os.path.relpath(exe) if exe.exists() else "labelbox-export"
    root = os.path.relpath(out / "mirror")
    sql = "SELECT d.mime_type, count(*) AS labels FROM labels l JOIN data_rows d "
    sql += "USING (project_id, data_row_id) GROUP BY 1 ORDER BY 1"
    return "\n".join(
        [
            "== Try next ==",
            f"{cli} ledger --root {root} --project {project_id}",
            f"{cli} backfill-command --root {root} --project {project_id}",
            f"{cli} query --root {root} --table labels --columns label_id,created_at",
            f'{cli} query --root {root} --sql "{sql}"',
            f'{cli} query --root {root} --delta --sql "{sql}"',
            f"{cli} delta history --root {root} --project {project_id} --table labels",
        ]
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Run the demo; returns the exit status."""
    args = build_parser().parse_args(argv)
    started = time.monotonic()

    def progress(message: str) -> None:
        print(f"[{time.monotonic() - started:6.1f}s] {message}", file=sys.stderr, flush=True)

    from labelbox_provider.cli.demo_run import (
        DAG_FILE,
        DemoConfig,
        delta_enabled,
        migrate_airflow_db,
        run_demo,
    )

    out = prepare_output(args.out)
    airflow_environment(out, DAG_FILE.parent)
    progress(f"output in {out}; migrating the demo's Airflow database (SQLite)")
    migrate_airflow_db()
    from labelbox_provider.cli._common import route_logs
    from labelbox_provider.cli.demo_summary import delta_facts, render_summary, summarize

    route_logs(verbose=False)
    config = DemoConfig(
        out=out, days=args.days, labels_per_project=args.labels_per_project, seed=args.seed
    )
    progress("starting the Labelbox emulator (one project per asset type)")
    run, _ = run_demo(config, progress)
    progress("emulator stopped; summarising")
    summary = summarize(config.mirror, config.warehouse, run.projects, run.run_dates)
    if delta_enabled(config):
        delta_facts(config.mirror, run.projects[0]["id"], summary)
    print(render_summary(summary))
    print()
    print(_next_steps(out, run.projects[0]["id"]))
    progress(f"demo finished in {time.monotonic() - started:.0f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
