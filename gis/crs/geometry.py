"""Transform arrays of shapely 2 geometries in one vectorised call."""

from __future__ import annotations

import numpy as np
import shapely

from gis.crs.operation import CRSOperation, to_wgs84


def transform_geometries(geometries, operation, include_z: bool | None = None):
    """Apply ``operation`` (a CRSOperation, or a source CRS meaning "to WGS 84") to every
    vertex. include_z=None keeps each geometry's dimensionality; True/False force 3D/2D."""
    op = operation if isinstance(operation, CRSOperation) else to_wgs84(operation)

    def apply(x, y, z=None):
        return op.transform(x, y) if z is None else op.transform(x, y, z)

    return shapely.transform(np.asarray(geometries, dtype=object) if not isinstance(
        geometries, shapely.Geometry) else geometries, apply, include_z=include_z,
        interleaved=False)
