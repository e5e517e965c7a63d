"""A real Airflow 3 deployment under test: separate processes, PostgreSQL, optional Celery.

::

    with AirflowStack(venv, dags, executor="CeleryExecutor", env=extra) as stack:
        api = stack.client()
        run = api.trigger("labelbox_incremental")

Each stack has its own ``AIRFLOW_HOME`` (a temp dir), a fresh PostgreSQL database, free
loopback ports and, for Celery, its own Redis database number. The settings below are the ones
docs/production.md explains (fast parsing and heartbeats are test-only).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
import time
import uuid
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType
from typing import Any

import httpx

from tests.deploy.client import AirflowClient, StackError
from tests.deploy.procs import (
    PG_URL_BASE,
    Component,
    become_subreaper,
    create_database,
    drop_database,
    free_port,
    stop_components,
)

REDIS_URL_BASE = "redis://127.0.0.1:6379"
FERNET_KEY = "UKzWFhtQy8JhEzjbDeHGGsfO0x9xkCJvj7nFGlO1Xr8="  # test-only, fixed
ADMIN = ("admin", "admin-deploy-test")  # SimpleAuthManager user and password (test-only)
HEALTHY = ("metadatabase", "scheduler", "triggerer", "dag_processor")

# Parsing, scheduling and heartbeats tuned for a test (production keeps the defaults, except
# the retry delay and the heartbeat timeout: see docs/production.md). The test runs on a
# loaded 2-core CI machine beside other suites: everything that times out under load is
# generous (a task's heartbeat may lag a minute; an API call to the api-server may take 30 s),
# while the loops that make the scheduler react stay fast.
FAST: dict[str, str] = {
    "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "2",
    "AIRFLOW__DAG_PROCESSOR__MIN_FILE_PROCESS_INTERVAL": "5",
    "AIRFLOW__DAG_PROCESSOR__BUNDLE_REFRESH_CHECK_INTERVAL": "1",
    "AIRFLOW__DAG_PROCESSOR__PARSING_PROCESSES": "1",
    "AIRFLOW__DAG_PROCESSOR__PRINT_STATS_INTERVAL": "0",
    "AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC": "1",
    "AIRFLOW__SCHEDULER__JOB_HEARTBEAT_SEC": "1",
    "AIRFLOW__SCHEDULER__SCHEDULER_IDLE_SLEEP_TIME": "0.2",
    "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT_DETECTION_INTERVAL": "2",
    "AIRFLOW__TRIGGERER__JOB_HEARTBEAT_SEC": "1",
    "AIRFLOW__WORKERS__MIN_HEARTBEAT_INTERVAL": "2",
}
# Timeouts that a loaded machine would otherwise trip (a zombie and its retry, a task failed
# for three slow heartbeats, a DAG file "timing out" while it imports Airflow, a Celery send).
PATIENT: dict[str, str] = {
    # a task whose heartbeats stop this long is a zombie (the kill test waits this out once)
    "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT": "60",
    "AIRFLOW__WORKERS__EXECUTION_API_TIMEOUT": "30",  # default 5 s; 3 failed heartbeats kill
    "AIRFLOW__WORKERS__MAX_FAILED_HEARTBEATS": "6",
    "AIRFLOW__CORE__DAGBAG_IMPORT_TIMEOUT": "120",
    "AIRFLOW__DAG_PROCESSOR__DAG_FILE_PROCESSOR_TIMEOUT": "180",
    "AIRFLOW__SCHEDULER__SCHEDULER_HEALTH_CHECK_THRESHOLD": "120",
    "AIRFLOW__TRIGGERER__TRIGGERER_HEALTH_CHECK_THRESHOLD": "120",
    "AIRFLOW__TRIGGERER__RUNNER_HEALTH_CHECK_THRESHOLD": "120",
    "AIRFLOW__DAG_PROCESSOR__HEALTH_CHECK_THRESHOLD": "120",
    "AIRFLOW__CELERY__OPERATION_TIMEOUT": "30",  # default 1 s to hand a task to the broker
}


class AirflowStack:
    """Configuration and life cycle of one deployment (see the module docstring)."""

    def __init__(
        self,
        venv: Path,
        dags_folder: Path,
        *,
        executor: str = "LocalExecutor",
        env: Mapping[str, str] | None = None,
        celery_workers: int = 2,
        celery_concurrency: int = 2,
        parallelism: int = 8,
    ) -> None:
        self.venv, self.dags_folder, self.executor = venv.resolve(), dags_folder.resolve(), executor
        self.extra_env = dict(env or {})
        self.celery_workers, self.celery_concurrency = celery_workers, celery_concurrency
        self.parallelism = parallelism
        self.home = Path(tempfile.mkdtemp(prefix="lbx-airflow-deploy-"))
        self.db_name = f"lbx_deploy_{uuid.uuid4().hex[:10]}"
        self.redis_db = 1 + uuid.uuid4().int % 15
        self.api_port = free_port()
        self.components: list[Component] = []
        self.timings: dict[str, float] = {}
        self._db_created = False

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.api_port}"

    @property
    def logs(self) -> Path:
        return self.home / "logs"

    def env(self) -> dict[str, str]:
        """The environment every Airflow process of this stack shares."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW")}
        db = f"{PG_URL_BASE}/{self.db_name}"
        env |= {
            "AIRFLOW_HOME": str(self.home),
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"postgresql+psycopg2://{db}",
            "AIRFLOW__CORE__EXECUTOR": self.executor,
            "AIRFLOW__CORE__DAGS_FOLDER": str(self.dags_folder),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__FERNET_KEY": FERNET_KEY,
            "AIRFLOW__CORE__PARALLELISM": str(self.parallelism),
            # the task SDK reports to the api-server here (default: localhost:8080)
            "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{self.base_url}/execution/",
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": f"{ADMIN[0]}:admin",
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(self.home / "passwords.json"),
            "AIRFLOW__API__BASE_URL": self.base_url,
            "AIRFLOW__API__HOST": "127.0.0.1",
            "AIRFLOW__API__PORT": str(self.api_port),
            "AIRFLOW__API__SECRET_KEY": uuid.uuid4().hex,
            "AIRFLOW__API_AUTH__JWT_SECRET": uuid.uuid4().hex,
            # each stack (and each worker, below) serves its logs on its own port
            "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(free_port()),
            "AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT": str(free_port()),
            "AIRFLOW__LOGGING__BASE_LOG_FOLDER": str(self.logs),
            "PYTHONUNBUFFERED": "1",
            "PATH": f"{self.venv / 'bin'}:{env.get('PATH', '')}",
        }
        if self.executor == "CeleryExecutor":
            env |= {
                "AIRFLOW__CELERY__BROKER_URL": f"{REDIS_URL_BASE}/{self.redis_db}",
                # SQLAlchemy 2.1 maps plain postgresql:// to psycopg 3: name the driver
                "AIRFLOW__CELERY__RESULT_BACKEND": f"db+postgresql+psycopg2://{db}",
                "AIRFLOW__CELERY__WORKER_CONCURRENCY": str(self.celery_concurrency),
            }
        return env | FAST | PATIENT | self.extra_env

    def airflow(self, *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
        """Run one ``airflow`` CLI command against this stack (raises on failure)."""
        res = subprocess.run(
            [str(self.venv / "bin" / "airflow"), *args],
            env=self.env(),
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if res.returncode != 0:
            raise StackError(f"airflow {' '.join(args)} failed:\n{res.stderr[-4000:]}")
        return res

    def prepare(self) -> None:
        """Fresh database, known admin password, ``airflow db migrate``; flush Redis."""
        self.logs.mkdir(parents=True, exist_ok=True)
        (self.home / "passwords.json").write_text(json.dumps({ADMIN[0]: ADMIN[1]}))
        create_database(self.db_name)
        self._db_created = True
        if self.executor == "CeleryExecutor":
            flush = (
                f"import redis; redis.Redis.from_url('{REDIS_URL_BASE}/{self.redis_db}').flushdb()"
            )
            subprocess.run([str(self.venv / "bin" / "python"), "-c", flush], check=True)
        t0 = time.monotonic()
        self.airflow("db", "migrate", timeout=600)
        self.timings["db_migrate_s"] = time.monotonic() - t0

    def _specs(self) -> list[Component]:
        base, airflow = self.env(), str(self.venv / "bin" / "airflow")

        def comp(name: str, *argv: str, **env: str) -> Component:
            return Component(
                name, [airflow, *argv], self.logs / f"{name}.log", base | env, self.home
            )

        specs = [
            comp("api-server", "api-server", "--port", str(self.api_port), "--workers", "1"),
            comp("scheduler", "scheduler"),
            comp("dag-processor", "dag-processor"),
            # JSON lines: a trigger's last lines can land here rather than in its own file
            # (scenario.deferrals reads them back by the trigger's name)
            comp("triggerer", "triggerer", AIRFLOW__LOGGING__JSON_LOGS="True"),
        ]
        for i in range(1, self.celery_workers + 1 if self.executor == "CeleryExecutor" else 1):
            port = {"AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(free_port())}
            specs.append(
                comp(
                    f"celery-worker-{i}",
                    *("celery", "worker", "--celery-hostname", f"worker{i}@%h"),
                    *("--concurrency", str(self.celery_concurrency)),
                    *("--without-mingle", "--without-gossip"),
                    **port,
                )
            )
        return specs

    def start(self, timeout: float = 180) -> None:
        """Start every component; return once all report healthy (and workers are ready)."""
        t0 = time.monotonic()
        become_subreaper()
        self.components = self._specs()
        for comp in self.components:
            comp.start()
        deadline = time.monotonic() + timeout
        while not self._ready():
            if time.monotonic() > deadline:
                raise StackError(f"stack not healthy after {timeout}s\n{self.tail_logs()}")
            time.sleep(1)
        self.timings["startup_s"] = time.monotonic() - t0

    def _ready(self) -> bool:
        dead = [c.name for c in self.components if not c.alive()]
        if dead:
            raise StackError(f"component(s) died: {dead}\n{self.tail_logs()}")
        try:
            health = httpx.get(f"{self.base_url}/api/v2/monitor/health", timeout=5).json()
        except (httpx.HTTPError, ValueError):
            return False
        if not all(health.get(k, {}).get("status") == "healthy" for k in HEALTHY):
            return False
        workers = [c for c in self.components if c.name.startswith("celery-worker")]
        return all("ready." in c.log_text() for c in workers)

    def tail_logs(self, lines: int = 25) -> str:
        return "\n".join(
            f"===== {c.name} =====\n" + "\n".join(c.log_text().splitlines()[-lines:])
            for c in self.components
        )

    def all_logs(self) -> str:
        """Every log the stack wrote (components and task logs)."""
        return "\n".join(p.read_text(errors="replace") for p in self.logs.rglob("*.log"))

    def stop(self) -> None:
        t0 = time.monotonic()
        stop_components(self.components)
        self.timings["stop_s"] = time.monotonic() - t0

    def cleanup(self) -> None:
        keep = os.environ.get("LBX_DEPLOY_KEEP_LOGS")  # a folder: copy the logs there first
        if keep and self.logs.exists():
            shutil.copytree(self.logs, Path(keep) / self.db_name, dirs_exist_ok=True)
        if self._db_created:
            drop_database(self.db_name)
        shutil.rmtree(self.home, ignore_errors=True)

    def client(self) -> AirflowClient:
        return AirflowClient(self.base_url, *ADMIN)

    def __enter__(self) -> AirflowStack:
        try:
            self.prepare()
            self.start()
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            self.stop()
        finally:
            self.cleanup()


def worker_of(stack: AirflowStack, name: str) -> Component:
    """The component called ``name``."""
    return next(c for c in stack.components if c.name == name)


def snapshot(stack: AirflowStack) -> dict[str, Any]:
    """Timings so far (for the test report)."""
    return {k: round(v, 1) for k, v in stack.timings.items()}
