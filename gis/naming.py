"""Where a layer version is stored, by name: the one place loaders and services agree on.

Vector versions are tables ``data."<id>__v<N>"`` behind the view ``data."<id>"`` (an edit
version is a view of that name over a full table and ``<id>__v<N>_edits``); raster
versions are files ``rasters/<id>/v<N>.tif`` relative to ``$SPP_DATA_DIR`` or, with an object
store, keys of the same name in its bucket (opened by GDAL through /vsis3/).
"""

from __future__ import annotations

from pathlib import Path

from gis.objectstore import object_store
from gis.settings import get_settings

SCHEMA = "data"  # vector views and version tables
RASTERS = "rasters"  # folder (or key prefix) of raster versions


def view_name(layer_id: str) -> str:
    """The view showing a vector layer's current version (in schema ``data``)."""
    return layer_id


def version_table(layer_id: str, version: int) -> str:
    return f"{layer_id}__v{version}"


def overlay_table(version_ref: str) -> str:
    """The table of features edited since the last full table, of an edit version whose view
    is ``version_ref`` (gis/edits.py)."""
    return f"{version_ref}_edits"


def raster_prefix(layer_id: str) -> str:
    return f"{RASTERS}/{layer_id}/"


def raster_key(layer_id: str, version: int) -> str:
    """A raster version's path relative to the data folder, also its object-store key."""
    return f"{raster_prefix(layer_id)}v{version}.tif"


def rasters_root() -> Path:
    """The local raster folder (also the scratch space of raster loads)."""
    return get_settings().data_dir / RASTERS


def raster_location(rel: str) -> Path | str:
    """Where GDAL opens a stored raster version: a file, or /vsis3/... with an object store."""
    objects = object_store()
    return objects.gdal_path(rel) if objects else get_settings().data_dir / rel
