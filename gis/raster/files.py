"""Raster version files in the store: ``$SPP_DATA_DIR/rasters/<id>/v<N>.tif``, or the object
store's keys of the same name (names: gis.naming). A file is never written in place: a new
version is a new file, put into the store complete (rename, or one PUT).
"""

from __future__ import annotations

import os
from pathlib import Path

from gis.naming import raster_location, raster_prefix, rasters_root
from gis.objectstore import object_store
from gis.settings import get_settings


def publish(local: Path, rel: str) -> Path | str:
    """Move a complete file into the store under ``rel`` (atomic either way)."""
    objects = object_store()
    if objects:
        objects.put_file(local, rel)
        local.unlink(missing_ok=True)
    else:
        target = get_settings().data_dir / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(local, target)  # same filesystem as the scratch folder below data_dir
    return raster_location(rel)


def exists(rel: str) -> bool:
    objects = object_store()
    return objects.exists(rel) if objects else (get_settings().data_dir / rel).is_file()


def remove(rel: str) -> None:
    objects = object_store()
    if objects:
        objects.delete(rel)
    else:
        (get_settings().data_dir / rel).unlink(missing_ok=True)


def stored(layer_id: str) -> list[str]:
    """The version files of a layer present in the store, as relative paths."""
    objects = object_store()
    if objects:
        return [r for r in objects.list(raster_prefix(layer_id)) if r.endswith(".tif")]
    folder = rasters_root() / layer_id
    return [f"{raster_prefix(layer_id)}{f.name}" for f in folder.glob("v*.tif")] \
        if folder.is_dir() else []
