"""``python -m labelbox_provider.io.flatten_worker PARENT_PID FD``: the second process of a
two-process flatten (:mod:`labelbox_provider.io.split`).

Reads a pickled :class:`~labelbox_provider.io.split.WorkerJob` on stdin, flattens its range
and writes the pickled outcome to the file descriptor ``FD`` (its stdout and stderr are the
parent's record of what went wrong). It imports only what flattening needs: numpy,
pandas and pyarrow's remote filesystems are blocked before pyarrow loads (pyarrow works
without them), and it dies with its parent (``PR_SET_PDEATHSIG``), so that no orphan keeps
writing part files.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import signal
import sys

# pyarrow imports these if it can; flattening needs none of them (numpy and pandas: ~17 MB
# resident; pyarrow.parquet's filesystems for S3, GCS, Azure and HDFS: ~3 MB)
BLOCKED = (
    "numpy",
    "pandas",
    "pyarrow._s3fs",
    "pyarrow._gcsfs",
    "pyarrow._azurefs",
    "pyarrow._hdfs",
)
_PR_SET_PDEATHSIG = 1


def _die_with_parent(parent: int) -> None:
    """SIGKILL this process when its parent dies; exit now if it already has."""
    import ctypes

    with contextlib.suppress(OSError, AttributeError):  # not Linux: the parent kills it
        ctypes.CDLL(None).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:
        os._exit(1)


def _block() -> None:
    """Make the modules of :data:`BLOCKED` fail to import (before pyarrow is loaded)."""
    for name in BLOCKED:
        sys.modules.setdefault(name, None)  # type: ignore[arg-type]


def main() -> int:
    """Run the job read on stdin; the outcome on stdout (exit code 0 if it was written)."""
    _block()
    _die_with_parent(int(sys.argv[1]))
    job = pickle.load(sys.stdin.buffer)
    from labelbox_provider.io.split import run_worker

    outcome = run_worker(job)
    with os.fdopen(int(sys.argv[2]), "wb") as out:  # the outcome's own file
        pickle.dump(outcome, out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
