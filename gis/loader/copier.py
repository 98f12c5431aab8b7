"""COPY rows into PostgreSQL from a background thread, so that preparing the next batch
(Python, one core) overlaps with the server ingesting the previous one (the other core)."""

from __future__ import annotations

import io
import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import shapely
from psycopg import sql

from gis import labelpoint, sfc

_DONE = object()


def csv_bytes(typed: pd.DataFrame, columns: list[str], fids: np.ndarray, rows: np.ndarray,
              geoms: np.ndarray, curve: sfc.Keyer | None = None) -> bytes:
    """The batch as CSV for COPY: nulls are empty and unquoted, strings always quoted;
    ``curve``: the keys of the curve column (gis.sfc), when ``columns`` has it; label points
    (gis.labelpoint) are computed when ``columns`` has their column."""
    arrays = {"fid": pa.array(fids, pa.int64())}
    if sfc.COLUMN in columns:
        arrays[sfc.COLUMN] = pa.array(curve(shapely.bounds(np.asarray(geoms, dtype=object))),
                                      pa.int64())
    for col in columns:
        if col in ("fid", "source_row", "geom", sfc.COLUMN, labelpoint.COLUMN):
            continue
        series = typed[col]
        if col == "extra":
            # NaN, not None, is pandas' missing text (an edit mixing new and stored rows)
            arrays[col] = pa.array([None if pd.isna(v) else v for v in series]
                                   if series.notna().any() else [None] * len(series),
                                   pa.string())
        elif isinstance(series.dtype, pd.BooleanDtype) or series.dtype == bool:
            arrays[col] = pa.array(series.astype("boolean"), pa.bool_())
        elif series.dtype == object or series.dtype.kind == "M":  # dates, timestamps
            arrays[col] = pa.array([None if pd.isna(v) else v.isoformat() for v in series],
                                   pa.string()) if series.notna().any() else \
                pa.nulls(len(series), pa.string())
        else:
            arrays[col] = pa.Array.from_pandas(series)
    arrays["source_row"] = pa.array(rows, pa.int64())
    # WKB without SRID: the column's typmod gives it 4326 (PostGIS sets an unknown SRID
    # to the column's); binary WKB hexed by Python is 4x faster than GEOS's hex writer
    arrays["geom"] = pa.array([b.hex() for b in shapely.to_wkb(geoms)], pa.string())
    if labelpoint.COLUMN in columns:
        arrays[labelpoint.COLUMN] = pa.array(labelpoint.points_wkb(geoms), pa.string())
    table = pa.table([arrays[c] for c in columns], names=columns)
    sink = io.BytesIO()
    pacsv.write_csv(table, sink, pacsv.WriteOptions(include_header=False,
                                                    quoting_style="needed"))
    return sink.getvalue()


class BackgroundCopy:
    """The rows of a table written by one COPY in a thread of its own, chunk by chunk, at most
    ``CHUNKS`` chunks in flight (being made, waiting or being written): memory stays flat."""

    CHUNKS = 2  # one written while the next is made (put_later) and the loader checks more

    def __init__(self, conn, table: str, columns: list[str]):
        self.conn = conn
        self.stmt = sql.SQL("COPY {} ({}) FROM STDIN WITH (FORMAT csv)").format(
            sql.Identifier("data", table), sql.SQL(", ").join(map(sql.Identifier, columns)))
        self.queue: queue.Queue = queue.Queue()
        # a slot is taken before a chunk is made, given back once it is written
        self.slots = threading.Semaphore(self.CHUNKS)
        self.error: BaseException | None = None
        self.prepare: ThreadPoolExecutor | None = None  # put_later's thread, made on use
        # started by the first chunk: until then the connection is free for the checks of
        # the first batch (gis.loader.plausibility reads the current version then)
        self.thread = threading.Thread(target=self._run, name="copy", daemon=True)

    def _run(self) -> None:
        try:
            with self.conn.cursor().copy(self.stmt) as copy:
                while (chunk := self.queue.get()) is not _DONE:
                    try:
                        copy.write(chunk.result() if isinstance(chunk, Future) else chunk)
                    finally:
                        self.slots.release()
        except BaseException as exc:  # surfaced to the loading thread by put()/close()
            self.error = exc
            while self.queue.get() is not _DONE:  # drain so put() never blocks forever
                self.slots.release()

    def _reserve(self) -> None:
        if self.error:
            raise self.error
        if self.thread.ident is None:
            self.thread.start()
        self.slots.acquire()

    def put(self, chunk: bytes) -> None:
        self._reserve()
        self.queue.put(chunk)

    def put_later(self, make: Callable[..., bytes], *args) -> None:
        """Queue the chunk ``make(*args)`` will give, made in a third thread: its numpy,
        GEOS and Arrow work releases the GIL, so it runs beside the loading thread's next
        batch on the core PostgreSQL's ingest leaves free. Chunks are written in order."""
        self._reserve()
        if self.prepare is None:
            self.prepare = ThreadPoolExecutor(1, thread_name_prefix="copy-prepare")
        self.queue.put(self.prepare.submit(make, *args))

    def close(self) -> None:
        self.abort()
        if self.error:
            raise self.error

    def abort(self) -> None:
        """Finish the COPY stream and wait for the thread (the caller's transaction decides
        whether anything stays)."""
        if self.thread.is_alive():
            self.queue.put(_DONE)
            self.thread.join()
        if self.prepare is not None:
            self.prepare.shutdown(cancel_futures=True)
