"""What the web map needs to know of a layer, from its definition, served in the collection
document (``spp:map``) and the raster list (``map``): the web map builds its layer tree from
it and names no layer itself."""

from __future__ import annotations

from gis.layerdef import LayerDefinition, VectorLayerDef


def map_hints(d: LayerDefinition) -> dict:
    label = d.style.label if isinstance(d, VectorLayerDef) else None
    return {"kind": d.kind, "domain": d.domain, "visible": d.map.visible, "base": d.map.base,
            "label": label.field if label else None,
            "planning": d.planning.role if d.planning else None}
