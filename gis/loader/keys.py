"""Feature ids and natural keys across a whole delivery, in bounded memory.

Ids stay stable between versions: a feature whose natural key existed in the current version
keeps that feature's fid; new features take ids from the layer's sequence. A key seen twice in
one delivery is a reject that names the first row. Keys are kept as 64-bit hashes in sorted
numpy arrays (16 bytes a feature), so a multi-million-feature layer stays small in memory: a
key of the current version, once delivered, records its first row in place of its fid (it is
needed only once), so a re-delivery keeps one map of the layer, not two.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from psycopg import sql
from psycopg.rows import tuple_row

from gis.layerdef import LayerDef

FETCH = 25_000  # rows a round trip when reading the current version's keys (a batch's)


def key_hashes(frame: pd.DataFrame, key: list[str]) -> np.ndarray:
    """One uint64 per row, equal for equal keys (text stripped, numbers as integers)."""
    parts = pd.DataFrame({k: _key_text(frame[k]) for k in key})
    return pd.util.hash_pandas_object(parts, index=False).to_numpy(dtype=np.uint64)


def _key_text(s: pd.Series) -> pd.Series:
    """A key column as the text _norm gives each value, column-wise where the type allows
    (text, integers, integral floats); other values one by one."""
    if s.dtype.kind in "iu" or isinstance(s.dtype, pd.Int64Dtype | pd.Int32Dtype):
        return _text(s.astype("Int64"))
    if s.dtype.kind == "f":
        v = s.to_numpy(dtype=np.float64, na_value=np.nan)
        whole = np.isfinite(v) & (np.mod(v, 1) == 0) & (np.abs(v) < 2**62)
        if whole.all() or not (np.isfinite(v) & ~whole).any():
            return _text(pd.Series(v, index=s.index).where(whole).astype("Int64"))
    elif pd.api.types.is_string_dtype(s) and pd.api.types.infer_dtype(
            s, skipna=True) in ("string", "empty"):
        return _text(s.astype("string").str.strip())
    return pd.Series([str(_norm(v)) for v in s], index=s.index, dtype=object)


def _text(s: pd.Series) -> pd.Series:
    """Text of each value, "None" where missing (as str(_norm(value)) gives)."""
    return pd.Series(s.astype("string").to_numpy(dtype=object, na_value="None"),
                     index=s.index, dtype=object)


class _SortedMap:
    """uint64 hash -> int64 value, merged batch by batch."""

    def __init__(self):
        self.keys = np.empty(0, dtype=np.uint64)
        self.values = np.empty(0, dtype=np.int64)

    def lookup(self, hashes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        found, pos = self.positions(hashes)
        return found, np.where(found, self.values[pos] if len(self.keys) else 0, 0)

    def positions(self, hashes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(found, index into keys/values: meaningful where found)."""
        pos = np.searchsorted(self.keys, hashes)
        pos = np.minimum(pos, max(len(self.keys) - 1, 0))
        found = (self.keys[pos] == hashes) if len(self.keys) else np.zeros(len(hashes), bool)
        return found, pos

    def add(self, hashes: np.ndarray, values: np.ndarray) -> None:
        # merged into place: sorting only the new entries keeps a multi-million map from
        # being re-sorted (and copied four times over) at every batch
        order = np.argsort(hashes, kind="stable")
        hashes, values = hashes[order], np.asarray(values, dtype=np.int64)[order]
        pos = np.searchsorted(self.keys, hashes, side="right")
        self.keys = np.insert(self.keys, pos, hashes)
        self.values = np.insert(self.values, pos, values)


class FeatureIds:
    """``provisional``: a delivery under a key rule (``keys:``) whose ids are given once it is
    whole (gis.loader.matching); every row is kept with a negative placeholder id."""

    def __init__(self, conn, layer: LayerDef, current_table: str | None, mode: str,
                 provisional: bool = False):
        self.conn, self.layer, self.mode = conn, layer, mode
        self.provisional, self.placeholder = provisional, 0
        self.key = layer.natural_key
        self.seq = f'data."{layer.id}__fid_seq"'
        conn.execute(sql.SQL("CREATE SEQUENCE IF NOT EXISTS {}").format(
            sql.Identifier("data", f"{layer.id}__fid_seq")))
        state = conn.execute(sql.SQL("SELECT last_value, is_called FROM {}").format(
            sql.Identifier("data", f"{layer.id}__fid_seq"))).fetchone()
        self.first_id = self.next_id = state["last_value"] + (1 if state["is_called"] else 0)
        # key hash -> first source row, for keys the current version does not have
        self.seen = _SortedMap()
        # key hash -> fid in the current version, or ~row (negative) once delivered in row
        self.previous = _SortedMap()
        if self.key and current_table and not provisional:
            self._read_previous(current_table)

    def _read_previous(self, table: str) -> None:
        cols = sql.SQL(", ").join(map(sql.Identifier, self.key))
        with self.conn.transaction(), self.conn.cursor(name="previous_keys",
                                                       row_factory=tuple_row) as cur:
            cur.execute(sql.SQL("SELECT fid, {} FROM {}").format(
                cols, sql.Identifier("data", table)))
            hashes, fids = [], []
            while rows := cur.fetchmany(FETCH):  # tuples: a third of the cost of dicts
                frame = pd.DataFrame(rows, columns=["fid", *self.key])
                del rows
                hashes.append(key_hashes(frame, self.key))
                fids.append(frame["fid"].to_numpy(dtype=np.int64))
                del frame
        if hashes:
            # sorted here, one array at a time, each temporary dropped once used: the peak is
            # the map and two arrays' copies, not every temporary of an insert at once
            joined = np.concatenate(hashes)
            del hashes
            order = np.argsort(joined, kind="stable")
            self.previous.keys = joined[order]
            del joined
            joined = np.concatenate(fids)
            del fids
            if (joined <= 0).any():  # ~row marks a delivered key: fids must be > 0
                raise ValueError(f"data.{table}: feature ids must be positive")
            self.previous.values = joined[order]

    def _new_ids(self, n: int) -> np.ndarray:
        # Allocated here, written back by finish(): the connection is busy with the COPY
        # meanwhile, and the layer lock keeps every other loader off this sequence.
        ids = np.arange(self.next_id, self.next_id + n, dtype=np.int64)
        self.next_id += n
        return ids

    def finish(self) -> None:
        """Move the sequence past the ids handed out (call once the COPY has ended)."""
        if self.next_id > self.first_id:
            self.conn.execute("SELECT setval(%s::regclass, %s)", (self.seq, self.next_id - 1))

    def assign(self, typed: pd.DataFrame, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray,
                                                                       list[tuple[int, str]]]:
        """(fids, keep mask, rejects) for a batch's rows."""
        n = len(typed)
        if self.provisional:
            fids = -np.arange(self.placeholder + 1, self.placeholder + n + 1, dtype=np.int64)
            self.placeholder += n
            return fids, np.ones(n, dtype=bool), []
        if not self.key:
            return self._new_ids(n), np.ones(n, dtype=bool), []
        label = " + ".join(self.key)
        hashes = key_hashes(typed, self.key)
        rows = np.asarray(rows, dtype=np.int64)
        # duplicates: against earlier batches (keys new to the layer in `seen`, keys of the
        # current version marked delivered in `previous`), then within this batch
        seen_before, seen_row = self.seen.lookup(hashes)
        found, pos = self.previous.positions(hashes)
        value = self.previous.values[pos] if found.any() else np.zeros(n, dtype=np.int64)
        claimed = found & (value < 0)
        dup_before = seen_before | claimed
        first_row = np.where(claimed, ~value, seen_row)
        found &= ~claimed
        _, first_idx = np.unique(hashes, return_index=True)
        dup_within = np.ones(n, dtype=bool)
        dup_within[first_idx] = False
        within_first = dict(zip(hashes[first_idx].tolist(), rows[first_idx].tolist(),
                                strict=True)) if dup_within.any() else {}
        keep = ~(dup_before | dup_within)
        rejects = []
        for i in np.flatnonzero(~keep):
            first = first_row[i] if dup_before[i] else within_first[int(hashes[i])]
            rejects.append((int(rows[i]), f"duplicate {label} (same as row {first}); kept the "
                                          "first"))
        self.seen.add(hashes[keep & ~found], rows[keep & ~found])
        old_fid = np.where(found, value, 0)
        delivered = keep & found
        self.previous.values[pos[delivered]] = ~rows[delivered]

        fids = np.zeros(n, dtype=np.int64)
        if self.mode == "append":
            clash = keep & found
            for i in np.flatnonzero(clash):
                rejects.append((int(rows[i]), f"{label} already in the layer; use --mode "
                                              "upsert to replace it"))
            keep &= ~found
        else:
            fids[keep & found] = old_fid[keep & found]
        fresh = keep & (fids == 0)
        fids[fresh] = self._new_ids(int(fresh.sum()))
        return fids, keep, rejects


def _norm(value):
    """Key values compare as the database stores them (ints as ints, text stripped)."""
    if value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value)):
        return None
    if isinstance(value, np.integer | float) and float(value).is_integer():
        return int(value)
    return value.strip() if isinstance(value, str) else value
