"""manifest.json of the sample delivery set: which file goes into which layer, with which load
options. Written by the sample writer, which alone knows what it wrote (file names, the layers
inside a GeoPackage, a DXF's attribute fields); read by `gis demo`, which names no layer.
The README's load commands are made from the same entries, so the two cannot disagree."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

from gis.errors import SPPError

NAME = "manifest.json"
FLAGS = {"mode": "--mode", "source_layer": "--source-layer", "source_crs": "--source-crs",
         "x_field": "--x-field", "y_field": "--y-field", "axis_order": "--axis-order"}


class ManifestError(SPPError):
    exit_code = 2


@dataclass(frozen=True)
class Load:
    """One `gis load` (or `gis load-raster`) of a sample file, as GIS staff would type it."""

    file: str  # relative to the sample folder
    layer: str
    options: dict = field(default_factory=dict)  # gis.loader.load.LoadOptions keys
    raster: bool = False

    def command(self) -> str:
        words = ["gis", "load-raster" if self.raster else "load", self.file, "--layer",
                 self.layer]
        for key, value in self.options.items():
            if key == "field_map":
                words += [f"--map {src}={dst}" for src, dst in value.items()]
            else:
                words += [FLAGS[key], str(value)]
        return " ".join(words)


def write_manifest(outdir: Path, loads: list[Load]) -> Path:
    path = outdir / NAME
    path.write_text(json.dumps({"loads": [asdict(ld) for ld in loads]}, ensure_ascii=False,
                               indent=1) + "\n", encoding="utf-8")
    return path


def read_manifest(outdir: Path) -> list[Load]:
    path = outdir / NAME
    try:
        return [Load(**entry) for entry in json.loads(path.read_text(encoding="utf-8"))["loads"]]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ManifestError(f"{path}: not a sample manifest ({exc}); write the sample set "
                            "again with `gis sample`") from exc
