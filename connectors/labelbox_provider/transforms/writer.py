"""Parquet writes on a background thread, so that encoding, compression and file output (which
release the GIL) overlap with decoding and flattening on the main thread."""

from __future__ import annotations

import queue
import threading

import pyarrow as pa
import pyarrow.parquet as pq

_Item = tuple[pq.ParquetWriter, pa.Table | None, int]  # no table: close the writer


class BackgroundWriter:
    """Writes tables to their Parquet writers on one thread, in submission order.

    One table at a time: :meth:`submit` waits for the previous table to be written, so at most
    one table is held beyond the caller's own (memory stays bounded). The first
    write error is raised by every later :meth:`submit` and by :meth:`finish`; later tables are
    dropped.
    """

    def __init__(self) -> None:
        self._queue: queue.Queue[_Item | None] = queue.Queue(maxsize=1)
        self._error: BaseException | None = None
        self._thread: threading.Thread | None = None

    def submit(self, writer: pq.ParquetWriter, table: pa.Table, row_group_size: int) -> None:
        """Queue ``table`` for ``writer``, once the previous table is written."""
        self._queue.join()
        self._raise()
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="parquet-writer", daemon=True)
            self._thread.start()
        self._queue.put((writer, table, row_group_size))

    def close(self, writer: pq.ParquetWriter) -> None:
        """Close ``writer`` once the tables queued before are written."""
        if self._thread is None:
            writer.close()
        else:
            self._queue.put((writer, None, 0))

    def finish(self) -> None:
        """Wait until every queued table is written; raise the first write error, if any."""
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join()
            self._thread = None
        self._raise()

    def _raise(self) -> None:
        if self._error is not None:
            raise self._error

    def _run(self) -> None:
        while (item := self._queue.get()) is not None:
            self._write(item)
            del item  # free the table before waiting for the next one
            self._queue.task_done()
        self._queue.task_done()

    def _write(self, item: _Item) -> None:
        if self._error is None:
            writer, table, row_group_size = item
            try:
                if table is None:
                    writer.close()
                else:
                    writer.write_table(table, row_group_size=row_group_size)
            except BaseException as exc:  # re-raised on the main thread
                self._error = exc
