"""Feature ids and natural keys across a whole delivery.

Ids stay stable between versions: a feature whose natural key existed in the current version
keeps that feature's fid; new features take ids from the layer's sequence. A key seen twice in
one delivery is a reject that names the first row.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from psycopg import sql

from gis.layerdef import LayerDef


class FeatureIds:
    def __init__(self, conn, layer: LayerDef, current_table: str | None, mode: str):
        self.conn, self.layer, self.mode = conn, layer, mode
        self.key = layer.natural_key
        self.seq = f'data."{layer.id}__fid_seq"'
        conn.execute(sql.SQL("CREATE SEQUENCE IF NOT EXISTS {}").format(
            sql.Identifier("data", f"{layer.id}__fid_seq")))
        state = conn.execute(sql.SQL("SELECT last_value, is_called FROM {}").format(
            sql.Identifier("data", f"{layer.id}__fid_seq"))).fetchone()
        self.first_id = self.next_id = state["last_value"] + (1 if state["is_called"] else 0)
        self.seen: dict[tuple, int] = {}  # key -> first source row in this delivery
        self.previous: dict[tuple, int] = {}  # key -> fid in the current version
        if self.key and current_table:
            cols = sql.SQL(", ").join(map(sql.Identifier, self.key))
            cur = conn.execute(sql.SQL("SELECT fid, {} FROM {}").format(
                cols, sql.Identifier("data", current_table)))
            self.previous = {tuple(_norm(r[k]) for k in self.key): r["fid"] for r in cur}

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
        keep = np.ones(n, dtype=bool)
        fids = np.zeros(n, dtype=np.int64)
        rejects: list[tuple[int, str]] = []
        if not self.key:
            fids[:] = self._new_ids(n)
            return fids, keep, rejects
        label = " + ".join(self.key)
        keys = list(zip(*(typed[k].map(_norm).tolist() for k in self.key), strict=True))
        fresh = []
        for i, k in enumerate(keys):
            first = self.seen.get(k)
            if first is not None:
                rejects.append((int(rows[i]), f"duplicate {label} (same as row {first}); "
                                              "kept the first"))
                keep[i] = False
                continue
            self.seen[k] = int(rows[i])
            fid = self.previous.get(k)
            if fid is not None and self.mode == "append":
                rejects.append((int(rows[i]), f"{label} already in the layer; use --mode "
                                              "upsert to replace it"))
                keep[i] = False
            elif fid is not None:
                fids[i] = fid
            else:
                fresh.append(i)
        fids[fresh] = self._new_ids(len(fresh))
        return fids, keep, rejects


def _norm(value):
    """Key values compare as the database stores them (ints as ints, text stripped)."""
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA:
        return None
    if isinstance(value, np.integer):
        return int(value)
    return value.strip() if isinstance(value, str) else value
