"""Alternative readings of a coordinate set: the usual ways a VN-2000 load goes wrong."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from gis.crs.datum import horizontal_crs
from gis.crs.operation import CRSOperation, to_wgs84
from gis.crs.pipeline import projection_step
from gis.crs.vn2000 import HELMERT_PV, TM3_ZONES, UTM_ZONES

# Zones tried for a projected source, the ones Cần Thơ data really come in first.
_ZONES = [5897, 9209, 3405] + [
    code for cm, code in sorted(TM3_ZONES.items(), key=lambda kv: abs(kv[0] - 105.25))
    if code not in (5897, 9209)] + [UTM_ZONES[111.0]]
_ZONE_PARAMS = {code: (cm, 0.9999) for cm, code in TM3_ZONES.items()}
_ZONE_PARAMS.update({code: (cm, 0.9996) for cm, code in UTM_ZONES.items()})


@dataclass(frozen=True)
class Candidate:
    label: str
    op: CRSOperation
    swap: bool
    causes: tuple[str, ...]  # empty for the declared reading
    suggestion: str | None  # value for --source-crs, None = keep the declared CRS
    prior: int  # tie-break: lower = more common in Cần Thơ deliveries
    assume_vn2000: bool | None = None


@lru_cache(maxsize=128)
def _op(source, assume_vn2000: bool = True) -> CRSOperation:
    return to_wgs84(source, assume_vn2000=assume_vn2000)


def _tm_params(op: CRSOperation) -> dict[str, float] | None:
    crs = horizontal_crs(op.source.crs)
    crs = crs.source_crs if crs.is_bound else crs
    if not crs.is_projected:
        return None
    try:
        step = projection_step(crs)[0]
    except Exception:  # not Transverse Mercator: no zone reasoning possible
        return None
    return {k[1:]: float(v) for k, v in (t.split("=") for t in step.split() if "=" in t)
            if k[1:] in ("lon_0", "k", "x_0", "y_0")}


def _kind(params: dict[str, float] | None) -> str | None:
    if params is None:
        return None
    return "utm" if abs(params["k"] - 0.9996) < 1e-9 else "tm3"


def _vn2000_twin(params: dict[str, float] | None, geographic: bool) -> int | str | None:
    """The VN-2000 CRS with the same projection as a WGS 84 based one."""
    if geographic:
        return 4756
    if params is None:
        return None
    for zones, k in ((TM3_ZONES, 0.9999), (UTM_ZONES, 0.9996)):
        code = zones.get(params["lon_0"])
        if code and abs(params["k"] - k) < 1e-9 and params["x_0"] == 500000:
            return code
    return ("+proj=tmerc +lat_0=0 " + " ".join(f"+{k}={v:.12g}" for k, v in params.items())
            + " +ellps=WGS84 +towgs84=" + ",".join(f"{v:.12g}" for v in HELMERT_PV))


def candidates(declared: CRSOperation, x: np.ndarray, y: np.ndarray) -> list[Candidate]:
    """Declared reading first, then every alternative worth scoring for these values."""
    out = [Candidate("declared", declared, False, (), None, 0),
           Candidate("declared, axes swapped", declared, True, ("swapped_axes",), None, 1)]
    src_crs = horizontal_crs(declared.source.crs)
    geographic = src_crs.is_geographic
    params = _tm_params(declared)
    finite = np.isfinite(x) & np.isfinite(y)
    med = np.median(np.abs(np.stack([x[finite], y[finite]])), axis=1) if finite.any() else (0, 0)
    degrees = bool(min(med) <= 90 and max(med) <= 180)
    vn = declared.datum.is_vn2000 and declared.pipeline.find("helmert") >= 0
    alts: list[tuple[object, tuple[str, ...], bool | None]] = []
    if not geographic and not degrees:
        same = (params["lon_0"], params["k"]) if params else None
        for code in _ZONES:
            if code == declared.source.epsg or _ZONE_PARAMS[code] == same:
                continue  # same grid: at most a datum question, handled below
            alt_kind = "tm3" if code in TM3_ZONES.values() else "utm"
            cause = "utm_vs_tm3" if {_kind(params), alt_kind} == {"tm3", "utm"} else "wrong_zone"
            alts.append((code, (cause,), None))
    elif not geographic and degrees:
        alts += [(4756, ("degrees_as_metres",), None), (4326, ("degrees_as_metres",), None)]
    elif geographic and not degrees:
        alts += [(code, ("projected_as_geographic",), None) for code in _ZONES]
    # Datum: WGS 84 declared but VN-2000 values ("VN-2000 nội bộ" read as WGS 84), or back.
    if not vn:
        twin = _vn2000_twin(params, geographic)
        if twin is not None:
            alts.append((twin, ("missing_datum_shift",), None))
    else:  # the values may already be WGS 84 and must not be shifted again
        literal = 4326 if geographic else {3405: 32648}.get(declared.source.epsg)
        if literal is not None:
            alts.append((literal, ("spurious_datum_shift",), None))
        elif params is not None:
            wgs = " ".join(f"+{k}={v:.12g}" for k, v in params.items())
            alts.append((f"+proj=tmerc +lat_0=0 {wgs} +datum=WGS84 +units=m +no_defs",
                         ("spurious_datum_shift",), False))
    for n, (source, causes, assume) in enumerate(alts):
        op = _op(source, True if assume is None else assume)
        suggestion = op.source.suggestion if assume is None else None
        label = f"as {op.source.label}" if assume is None else "as literal WGS 84"
        prior = 10 + 2 * n
        out.append(Candidate(label, op, False, causes, suggestion, prior, assume))
        out.append(Candidate(label + ", axes swapped", op, True, causes + ("swapped_axes",),
                             suggestion, prior + 1, assume))
    return out
