"""Layer definitions: one YAML file a layer in ``layers/``, validated into one model.

A definition is a ``LayerDefinition``: a union discriminated on ``kind`` of
``VectorLayerDef`` (the default) and ``RasterLayerDef``, both built on ``LayerBase`` (the keys
every layer has). The format is documented in ``layers/README.md``; a malformed file is
refused with the file, the line and what is wrong (``LayerDefinitionError``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from pydantic import Discriminator, Tag, TypeAdapter

from gis.layerdef.base import (
    CATALOGUE_ID,
    Access,
    Contact,
    Domain,
    LayerBase,
    Metadata,
    Planning,
    Strict,
    Text,
    TopicCategory,
    UpdateFrequency,
    check_layer_id,
)
from gis.layerdef.keys import KeyRule
from gis.layerdef.raster import RasterLayerDef
from gis.layerdef.submissions import SubmissionKind, Submissions
from gis.layerdef.vector import (
    FieldDef,
    LayerDef,
    Search,
    VectorLayerDef,
    VectorStyle,
)
from gis.layerdef.yamlfile import LayerDefinitionError, line_of, parse
from gis.settings import get_settings

__all__ = ["CATALOGUE_ID", "Access", "Contact", "Domain", "FieldDef", "KeyRule", "LayerBase",
           "LayerDef", "LayerDefinition", "LayerDefinitionError", "Metadata", "Planning",
           "RasterLayerDef", "Search", "Strict", "SubmissionKind", "Submissions", "Text",
           "TopicCategory", "UpdateFrequency", "VectorLayerDef", "VectorStyle", "check_layer_id",
           "get_layer_def", "load_layer_defs", "layers_folder", "parse_layer_file", "references",
           "validate_definition"]


def _kind(v: Any) -> str:
    return v.get("kind", "vector") if isinstance(v, dict) else v.kind  # no kind: a vector


LayerDefinition = Annotated[
    Annotated[VectorLayerDef, Tag("vector")] | Annotated[RasterLayerDef, Tag("raster")],
    Discriminator(_kind)]
_ADAPTER: TypeAdapter = TypeAdapter(LayerDefinition)


def validate_definition(data: dict) -> VectorLayerDef | RasterLayerDef:
    """A definition from its JSON form (a layer file, or the catalog's stored copy)."""
    return _ADAPTER.validate_python(data)


def parse_layer_file(path: Path) -> VectorLayerDef | RasterLayerDef:
    return parse(Path(path), validate_definition)


def layers_folder(directory: Path | None = None) -> Path:
    """The folder of layer files (SPP_LAYERS_DIR); a missing one is an error, not 0 layers."""
    directory = Path(directory or get_settings().layers_dir)
    if not directory.is_dir():
        raise LayerDefinitionError(f"the layer definitions folder {directory} does not exist: "
                                   "set SPP_LAYERS_DIR to the folder of layer files")
    return directory


def load_layer_defs(directory: Path | None = None) -> dict[str, VectorLayerDef | RasterLayerDef]:
    """All layer definitions, by id. Every malformed file is reported, not only the first."""
    directory = layers_folder(directory)
    defs: dict = {}
    errors: list[str] = []
    paths = sorted(directory.glob("*.y*ml"))
    if not paths:
        raise LayerDefinitionError(f"no layer definitions (*.yaml) in {directory}: point "
                                   "SPP_LAYERS_DIR at the folder of layer files")
    for path in paths:
        try:
            layer = parse_layer_file(path)
        except LayerDefinitionError as exc:
            errors.append(str(exc))
            continue
        defs[layer.id] = (layer, path)
    errors += _shared_problems(defs)
    if errors:
        raise LayerDefinitionError("\n".join(errors))
    return {lid: layer for lid, (layer, _) in defs.items()}


SINGLE_ROLES = ("parcels", "wards")  # the planning panel and search know one layer of each


def _shared_problems(defs: dict) -> list[str]:
    """Problems across files: a role only one layer may have, section keys used twice."""
    seen: dict[tuple, str] = {}
    out = []
    for layer, path in defs.values():
        p = layer.planning
        if p is None:
            continue
        key = ("role", p.role) if p.role in SINGLE_ROLES else ("section", p.section)
        if key[1] is None:
            continue
        if key in seen:
            loc = ("planning", "role" if key[0] == "role" else "section")
            out.append(f"{path}:{line_of(path, loc)}: {'.'.join(loc)}: {key[1]!r} is already "
                       f"the {key[0]} of layer {seen[key]!r}; only one layer may have it")
        else:
            seen[key] = layer.id
    return out


def references(layer: LayerDefinition, defs: dict) -> list[VectorLayerDef]:
    """The layers ``layer`` is checked against at load: those whose ``checks.reference_for``
    names a field ``layer`` has (wards for anything with a commune code). They load first."""
    if not isinstance(layer, VectorLayerDef):
        return []
    return [ref for ref in defs.values() if isinstance(ref, VectorLayerDef)
            and ref.checks.reference_for is not None and ref.id != layer.id
            and ref.checks.reference_for.field in layer.field]


def get_layer_def(layer_id: str, directory: Path | None = None
                  ) -> VectorLayerDef | RasterLayerDef:
    directory = layers_folder(directory)
    for ext in (".yaml", ".yml"):
        path = directory / f"{layer_id}{ext}"
        if path.exists():
            return parse_layer_file(path)
    known = sorted(p.stem for p in directory.glob("*.y*ml"))
    raise LayerDefinitionError(
        f"unknown layer id {layer_id!r}: no {directory}/{layer_id}.yaml. "
        f"Known layers: {', '.join(known) or '(none)'}")
