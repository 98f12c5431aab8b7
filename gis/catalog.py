"""The layer catalog in PostGIS, kept in step with the definitions in ``layers/``."""

from __future__ import annotations

import hashlib
import json

import psycopg
from psycopg.types.json import Jsonb

from gis.layerdef import LayerDefinition, VectorLayerDef, load_layer_defs


def definition_json(layer: LayerDefinition) -> dict:
    return layer.model_dump(mode="json")


def geometry_type(layer: LayerDefinition) -> str:
    """The catalog's geometry_type column: the vector geometry, or the layer's kind."""
    return layer.geometry if isinstance(layer, VectorLayerDef) else layer.kind.capitalize()


def sync_layer(conn: psycopg.Connection, layer: LayerDefinition) -> None:
    """Insert or update the catalog row of a layer from its definition file."""
    doc = definition_json(layer)
    sha = hashlib.sha256(json.dumps(doc, sort_keys=True).encode()).hexdigest()
    conn.execute(
        """
        INSERT INTO spp.layers (id, title_vi, title_en, description_vi, description_en, domain,
            owner_vi, owner_en, licence, access_level, departments, keywords, geometry_type,
            definition, definition_sha)
        VALUES (%(id)s, %(tvi)s, %(ten)s, %(dvi)s, %(den)s, %(domain)s, %(ovi)s, %(oen)s,
            %(licence)s, %(access)s, %(deps)s, %(kw)s, %(geom)s, %(doc)s, %(sha)s)
        ON CONFLICT (id) DO UPDATE SET title_vi = EXCLUDED.title_vi,
            title_en = EXCLUDED.title_en, description_vi = EXCLUDED.description_vi,
            description_en = EXCLUDED.description_en, domain = EXCLUDED.domain,
            owner_vi = EXCLUDED.owner_vi, owner_en = EXCLUDED.owner_en,
            licence = EXCLUDED.licence, access_level = EXCLUDED.access_level,
            departments = EXCLUDED.departments, keywords = EXCLUDED.keywords,
            geometry_type = EXCLUDED.geometry_type, definition = EXCLUDED.definition,
            definition_sha = EXCLUDED.definition_sha
        WHERE spp.layers.definition_sha IS DISTINCT FROM EXCLUDED.definition_sha
        """,
        {
            "id": layer.id, "tvi": layer.title.vi, "ten": layer.title.en,
            "dvi": layer.description.vi if layer.description else None,
            "den": layer.description.en if layer.description else None,
            "domain": layer.domain, "ovi": layer.owner.vi, "oen": layer.owner.en,
            "licence": layer.licence, "access": layer.access.level,
            "deps": layer.access.departments, "kw": layer.keywords, "geom": geometry_type(layer),
            "doc": Jsonb(doc), "sha": sha,
        },
    )


def sync_catalog(conn: psycopg.Connection, defs: dict[str, LayerDefinition] | None = None) -> None:
    defs = load_layer_defs() if defs is None else defs
    with conn.transaction():
        for layer in defs.values():
            sync_layer(conn, layer)


def layer_states(conn: psycopg.Connection) -> dict[str, dict]:
    """Catalog rows by id (load state: current version, feature count, last update)."""
    rows = conn.execute(
        "SELECT id, current_version, feature_count, updated_at, bbox FROM spp.layers"
    ).fetchall()
    return {r["id"]: r for r in rows}
