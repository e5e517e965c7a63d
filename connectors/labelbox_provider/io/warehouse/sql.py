"""The SQL that merges one staged batch into warehouse tables (shared by DuckDB and Postgres).

Pure text, no I/O. The statements implement, incrementally, the rule of the current view
(:mod:`labelbox_provider.io.current`); a row's *version* is ``(extracted_at, batch_id)``, and
``b`` is the one-row table holding the version of the batch being loaded:

1. raw tables (tombstones, rejects) are replaced by batch id: loading twice leaves one copy;
2. a data row's copy is taken when the batch is at least as new as the held copy;
3. a v2 data row is a **snapshot**: when it is at least as new as the held snapshot, every held
   label of that data row no newer than the batch is dropped (with its children), then the
   batch's labels come back in step 4 -- labels missing from the snapshot stay deleted;
4. a label of the batch is accepted when no newer copy, no newer snapshot of its data row and
   no later tombstone is held; it replaces the held copy, and its children replace the held ones
   (children always come from the label's current batch, never a mix);
5. workflow history: v2 rows follow the data row's snapshot, v1 rows follow their label (or,
   without a label id, the data row's copy), one row per step and batch;
6. tombstones delete held labels extracted before the tombstone was detected.

Every comparison is "at least as new", so re-loading a batch rewrites identical rows: the result
is the same (idempotent), and an older batch arriving late never overwrites newer state.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence

from labelbox_provider.io.current import LABEL_CHILDREN

SNAPSHOTS = "_lbx_snapshots"  # bookkeeping: version of each data row's latest v2 snapshot
LOADS = "_lbx_loads"  # bookkeeping: one row per loaded batch (audit and "already loaded")
RAW_TABLES = ("tombstones", "rejects")  # kept as written, replaced by batch id
STEP_KEY: dict[str, tuple[str, ...]] = {
    # v1 repeats a data row's workflow history on each of its label records: one row per step
    "workflow_history": ("project_id", "batch_id", "data_row_id", "label_id", "position"),
}
BATCH = "_lbx_b"  # temp: the loaded batch's (project_id, batch_id, extracted_at)
DR_NEW = "_lbx_dr_new"  # temp: data rows whose current copy becomes the batch's
SNAP_ADV = "_lbx_snap_adv"  # temp: data rows whose snapshot becomes the batch's
LAB_ACC = "_lbx_lab_acc"  # temp: the batch's labels that become current (deduplicated)
LAB_DROP = "_lbx_lab_drop"  # temp: held labels superseded by a newer snapshot of their row
LAB_TOUCH = "_lbx_lab_touch"  # temp: labels whose children are replaced or removed
LAB_TOMB = "_lbx_lab_tomb"  # temp: held labels deleted by the batch's tombstones

BOOKKEEPING_DDL: dict[str, str] = {
    SNAPSHOTS: (
        "project_id TEXT NOT NULL, data_row_id TEXT NOT NULL, batch_id TEXT NOT NULL, "
        "extracted_at TIMESTAMP WITH TIME ZONE NOT NULL, PRIMARY KEY (project_id, data_row_id)"
    ),
    LOADS: (
        "project_id TEXT NOT NULL, batch_id TEXT NOT NULL, attempt INTEGER NOT NULL, "
        "source_format TEXT, mode TEXT, window_start TIMESTAMP WITH TIME ZONE, "
        "window_end TIMESTAMP WITH TIME ZONE, extracted_at TIMESTAMP WITH TIME ZONE NOT NULL, "
        "counts TEXT, loaded_at TIMESTAMP WITH TIME ZONE, PRIMARY KEY (project_id, batch_id)"
    ),
}


def quote(name: str) -> str:
    """A double-quoted SQL identifier."""
    return '"' + name.replace('"', '""') + '"'


def staging(table: str) -> str:
    """Name of the temp table holding the batch's rows of ``table``."""
    return f"_lbx_stg_{table}"


def _le(alias: str) -> str:
    """``alias``'s version is at most the batch's (so the batch may replace it)."""
    return (
        f"({alias}.extracted_at < b.extracted_at OR "
        f"({alias}.extracted_at = b.extracted_at AND {alias}.batch_id <= b.batch_id))"
    )


def _on(left: str, right: str, *cols: str) -> str:
    return " AND ".join(f"{left}.{c} = {right}.{c}" for c in ("project_id", *cols))


def _exists(rel: str, alias: str, *cols: str) -> str:
    return f"EXISTS (SELECT 1 FROM {rel} k WHERE {_on('k', alias, *cols)})"


class MergePlan:
    """Renders the statements for one batch.

    ``target`` maps a table name to its qualified name; ``columns`` gives, per table, the
    columns the staging table holds (every one also exists in the target); inserts from
    staging tables not in ``nonempty`` are left out (they would insert nothing).
    """

    def __init__(
        self,
        target: Callable[[str], str],
        columns: Mapping[str, Sequence[str]],
        nonempty: Collection[str] | None = None,
    ) -> None:
        self.t = target
        self.columns = columns
        self.nonempty = set(columns if nonempty is None else nonempty)

    def _cols(self, table: str, alias: str = "") -> str:
        prefix = f"{alias}." if alias else ""
        return ", ".join(prefix + quote(c) for c in self.columns[table])

    def _insert(self, table: str, where: str) -> str:
        if table not in self.nonempty:
            return ""
        cols = self._cols(table)
        step = STEP_KEY.get(table)
        if step is None:
            return (
                f"INSERT INTO {self.t(table)} ({cols}) SELECT {self._cols(table, 'c')} "
                f"FROM {staging(table)} c CROSS JOIN {BATCH} b WHERE {where}"
            )
        key = ", ".join(f"c.{k}" for k in step)
        return (
            f"INSERT INTO {self.t(table)} ({cols}) SELECT DISTINCT ON ({key}) "
            f"{self._cols(table, 'c')} FROM {staging(table)} c CROSS JOIN {BATCH} b "
            f"WHERE {where} ORDER BY {key}"
        )

    def _merge(self, table: str, source: str, *keys: str, when: str = "") -> str:
        cols = self.columns[table]
        sets = ", ".join(f"{quote(c)} = s.{quote(c)}" for c in cols)
        return (
            f"MERGE INTO {self.t(table)} AS w USING {source} AS s ON {_on('w', 's', *keys)} "
            f"WHEN MATCHED {when}THEN UPDATE SET {sets} "
            f"WHEN NOT MATCHED THEN INSERT ({self._cols(table)}) VALUES ({self._cols(table, 's')})"
        )

    def derived(self) -> list[tuple[str, str]]:
        """``(temp table, SELECT)`` pairs, created in this order after staging."""
        dr, lab, tomb = staging("data_rows"), staging("labels"), self.t("tombstones")
        newer = "NOT " + _le("w")
        return [
            (
                DR_NEW,
                f"SELECT DISTINCT s.project_id, s.data_row_id FROM {dr} s CROSS JOIN {BATCH} b "
                f"WHERE NOT EXISTS (SELECT 1 FROM {self.t('data_rows')} w "
                f"WHERE {_on('w', 's', 'data_row_id')} AND {newer})",
            ),
            (
                SNAP_ADV,
                f"SELECT DISTINCT s.project_id, s.data_row_id FROM {dr} s CROSS JOIN {BATCH} b "
                f"WHERE s.source_format = 'v2' AND NOT EXISTS (SELECT 1 FROM {self.t(SNAPSHOTS)} w "
                f"WHERE {_on('w', 's', 'data_row_id')} AND {newer})",
            ),
            (
                LAB_ACC,
                f"SELECT DISTINCT ON (s.project_id, s.label_id) s.* FROM {lab} s "
                f"CROSS JOIN {BATCH} b WHERE NOT EXISTS (SELECT 1 FROM {self.t('labels')} w "
                f"WHERE {_on('w', 's', 'label_id')} AND {newer}) "
                f"AND NOT EXISTS (SELECT 1 FROM {self.t(SNAPSHOTS)} w "
                f"WHERE {_on('w', 's', 'data_row_id')} AND {newer}) "
                f"AND NOT EXISTS (SELECT 1 FROM {tomb} w WHERE {_on('w', 's', 'label_id')} "
                f"AND w.detected_at > b.extracted_at) ORDER BY s.project_id, s.label_id",
            ),
            (
                LAB_DROP,
                f"SELECT w.project_id, w.label_id FROM {self.t('labels')} w "
                f"CROSS JOIN {BATCH} b WHERE {_le('w')} "
                f"AND {_exists(SNAP_ADV, 'w', 'data_row_id')}",
            ),
            (
                LAB_TOUCH,
                f"SELECT project_id, label_id FROM {LAB_DROP} "
                f"UNION SELECT project_id, label_id FROM {LAB_ACC}",
            ),
        ]

    def raw_statements(self) -> list[str]:
        """Replace the batch's rows of the raw tables."""
        out = []
        for table in RAW_TABLES:
            out.append(
                f"DELETE FROM {self.t(table)} WHERE EXISTS (SELECT 1 FROM {BATCH} b "
                f"WHERE b.project_id = {self.t(table)}.project_id "
                f"AND b.batch_id = {self.t(table)}.batch_id)"
            )
            out.append(self._insert(table, "TRUE"))
        return [x for x in out if x]

    def _forget_labels(self, rel: str) -> list[str]:
        """Delete children and v1 label-bound workflow rows of the labels listed in ``rel``."""
        out = [
            f"DELETE FROM {self.t(child)} c WHERE {_exists(rel, 'c', 'label_id')}"
            for child in LABEL_CHILDREN
        ]
        out.append(
            f"DELETE FROM {self.t('workflow_history')} c WHERE c.source_format <> 'v2' "
            f"AND c.label_id IS NOT NULL AND {_exists(rel, 'c', 'label_id')}"
        )
        return out

    def label_statements(self) -> list[str]:
        """Snapshot bookkeeping, label replacement/deletion and the labels' children."""
        snap_src = (
            f"(SELECT a.project_id, a.data_row_id, b.batch_id, b.extracted_at "
            f"FROM {SNAP_ADV} a CROSS JOIN {BATCH} b)"
        )
        snap_cols = {SNAPSHOTS: ("project_id", "data_row_id", "batch_id", "extracted_at")}
        changed = "AND (w.batch_id <> s.batch_id OR w.extracted_at <> s.extracted_at) "
        snap = MergePlan(self.t, snap_cols)._merge(SNAPSHOTS, snap_src, "data_row_id", when=changed)
        out = [snap, *self._forget_labels(LAB_TOUCH)]
        out.append(
            f"DELETE FROM {self.t('labels')} c WHERE {_exists(LAB_DROP, 'c', 'label_id')} "
            f"AND NOT {_exists(LAB_ACC, 'c', 'label_id')}"
        )
        out.append(self._merge("labels", LAB_ACC, "label_id"))
        for child in LABEL_CHILDREN:
            out.append(self._insert(child, _exists(LAB_ACC, "c", "label_id")))
        out.append(
            self._insert(
                "workflow_history",
                "c.source_format <> 'v2' AND c.label_id IS NOT NULL AND "
                + _exists(LAB_ACC, "c", "label_id"),
            )
        )
        return [x for x in out if x]

    def data_row_statements(self) -> list[str]:
        """Data rows taken from the batch, and the workflow rows that follow data rows."""
        wh = self.t("workflow_history")
        v1_free = "c.source_format <> 'v2' AND c.label_id IS NULL"
        source = (
            f"(SELECT DISTINCT ON (c.project_id, c.data_row_id) c.* FROM {staging('data_rows')} c "
            f"WHERE {_exists(DR_NEW, 'c', 'data_row_id')} ORDER BY c.project_id, c.data_row_id)"
        )
        out = [
            f"DELETE FROM {wh} c WHERE c.source_format = 'v2' "
            f"AND {_exists(SNAP_ADV, 'c', 'data_row_id')}",
            self._insert(
                "workflow_history",
                f"c.source_format = 'v2' AND {_exists(SNAP_ADV, 'c', 'data_row_id')}",
            ),
            f"DELETE FROM {wh} c WHERE {v1_free} AND {_exists(DR_NEW, 'c', 'data_row_id')}",
            self._insert(
                "workflow_history", f"{v1_free} AND {_exists(DR_NEW, 'c', 'data_row_id')}"
            ),
            self._merge("data_rows", source, "data_row_id"),
        ]
        return [x for x in out if x]

    def tombstone_select(self) -> str:
        """Held labels that the batch's tombstones delete (detected after the label's copy)."""
        return (
            f"SELECT w.project_id, w.label_id FROM {self.t('labels')} w "
            f"WHERE EXISTS (SELECT 1 FROM {staging('tombstones')} k "
            f"WHERE {_on('k', 'w', 'label_id')} AND k.detected_at > w.extracted_at)"
        )

    def tombstone_statements(self) -> list[str]:
        """Delete the labels in ``LAB_TOMB`` with their children (run after it is created)."""
        return [
            *self._forget_labels(LAB_TOMB),
            f"DELETE FROM {self.t('labels')} c WHERE {_exists(LAB_TOMB, 'c', 'label_id')}",
        ]
