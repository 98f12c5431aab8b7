"""`gis demo`: the sample Cần Thơ delivery set written, loaded and served.

The loads are the ones GIS staff would type: the sample writer lists them in the set's
manifest.json (and README.txt); this module names no layer. A second run finds every file
unchanged (same SHA-256) and loads nothing again.
"""

from __future__ import annotations

from pathlib import Path

from gis import db, versions
from gis.layerdef import LayerDefinitionError, RasterLayerDef, load_layer_defs, references
from gis.loader.load import LoadOptions, LoadResult, load
from gis.loader.source import sha256_of
from gis.sample.manifest import Load, read_manifest


def load_order(loads: list[Load], defs: dict) -> list[Load]:
    """The manifest's loads, layers others are checked against first (wards: the parcels'
    plausibility reference); otherwise in the manifest's order (a replace before its append)."""
    depth: dict[str, int] = {}

    def depth_of(layer_id: str, seen: tuple = ()) -> int:
        if layer_id not in depth:
            refs = [r.id for r in references(defs[layer_id], defs) if r.id not in seen]
            depth[layer_id] = 1 + max((depth_of(r, (*seen, layer_id)) for r in refs),
                                      default=-1)
        return depth[layer_id]

    unknown = sorted({ld.layer for ld in loads} - set(defs))
    if unknown:
        raise LayerDefinitionError(f"the sample manifest loads layers without a layer file: "
                                   f"{', '.join(unknown)}")
    referenced = {r.id for ld in loads for r in references(defs[ld.layer], defs)}
    return sorted(loads, key=lambda ld: (depth_of(ld.layer), ld.layer not in referenced))


def ensure_sample(outdir: Path, parcels: int) -> Path:
    from gis.sample import SAMPLE_VERSION, write_sample

    marker = outdir / f".parcels-{parcels}-v{SAMPLE_VERSION}"
    if not marker.exists():
        write_sample(outdir, parcels=parcels)
        marker.touch()
    return outdir


def load_sample(outdir: Path, report=None) -> list:
    """Load every file of the manifest. A layer made of several files (parcels: a replace,
    then an append) is left alone when its current version is exactly those files, so a re-run
    changes nothing."""
    from gis.raster.load import load_raster

    defs = load_layer_defs()
    loads = load_order(read_manifest(outdir), defs)
    vector = [ld for ld in loads if not isinstance(defs[ld.layer], RasterLayerDef)]
    wanted: dict[str, list[str]] = {}
    for ld in vector:
        wanted.setdefault(ld.layer, []).append(sha256_of(_parts(outdir / ld.file))[0])
    with db.ready_connection() as conn:
        chains = {layer: [r["source_sha256"] for r in versions.current_chain(conn, layer)]
                  for layer, shas in wanted.items() if len(shas) > 1}
    results = []
    for ld in loads:
        if isinstance(defs[ld.layer], RasterLayerDef):  # unchanged files are not loaded again
            result = load_raster(outdir / ld.file, ld.layer, **ld.options)
        elif ld.layer in chains and chains[ld.layer] == wanted[ld.layer]:
            result = _unchanged(conn_layer=ld.layer, rel=ld.file, outdir=outdir)
        else:
            options = LoadOptions(**ld.options)
            # rebuild the whole chain when one of its files changed
            options.force = ld.layer in chains
            result = load(outdir / ld.file, ld.layer, options)
        results.append(result)
        if report:
            report(ld.file, result)
    return results


def _unchanged(conn_layer: str, rel: str, outdir: Path) -> LoadResult:
    with db.ready_connection() as conn:
        cur = versions.current_version(conn, conn_layer)
    sha = sha256_of(_parts(outdir / rel))[0]
    return LoadResult(conn_layer, cur["version"], "unchanged", rel, sha, {}, None, {},
                      feature_count=cur["feature_count"])


def _parts(path: Path) -> list[Path]:
    from gis.loader.source import dataset_files

    return dataset_files(path)
