"""What the web map needs to know of a layer, from its definition, served in the collection
document (``spp:map``) and the raster list (``map``): the web map builds its layer tree from
it and names no layer itself."""

from __future__ import annotations

from functools import cache

from gis.codelists import CODELISTS
from gis.layerdef import LayerDefinition, VectorLayerDef


def map_hints(d: LayerDefinition) -> dict:
    vector = isinstance(d, VectorLayerDef)
    label = d.style.label if vector else None
    out = {"kind": d.kind, "domain": d.domain, "visible": d.map.visible,
           "base": d.map.base,
           "label": label.fields[-1] if label else None,
           "planning": d.planning.role if d.planning else None}
    if vector:
        # the panel's title field and the meanings of coded fields (field -> code list name;
        # the lists themselves under "codelists", so the panel shows "ODT — Đất ở đô thị")
        out["title"] = d.title_field
        out["codes"] = {f.name: f.codelist for f in d.fields if f.codelist in CODELISTS}
        out["codelists"] = {n: meanings(n) for n in sorted(set(out["codes"].values()))}
        if d.catalogue is not None:
            out["catalogue"] = f"/lists/{d.id}"
    return out


@cache
def meanings(name: str) -> dict[str, dict[str, str]]:
    """A code list as {code: {"vi", "en"}} (the aggregate codes too: a plan may use them)."""
    return {str(e.code): {"vi": e.vi, "en": e.en} for e in CODELISTS[name]}
