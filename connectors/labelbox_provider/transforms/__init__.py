"""Pure transforms: one export record in, rows of each table out (no Airflow, no network)."""

from __future__ import annotations
