"""Writes styles/<style name>.json for every vector layer of layers/ (``gis.styles.build``:
the style made from the layer file's ``style`` key; format in layers/README.md).

    .venv/bin/python styles/build.py          # rewrite every file
    .venv/bin/python styles/build.py --check  # exit 1 when a committed file is out of date

Run after changing a layer's ``style`` or ``tiles`` keys or a code list colour, and commit the
output (QGIS and other clients read these files; the server makes the same style for a layer
without a file).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from gis.layerdef import VectorLayerDef, load_layer_defs  # noqa: E402
from gis.styles import build  # noqa: E402


def style_text(layer: VectorLayerDef) -> str:
    return json.dumps(build(layer), ensure_ascii=False, indent=1) + "\n"


def main(argv: list[str]) -> int:
    check = "--check" in argv
    stale = []
    for layer in load_layer_defs(ROOT / "layers").values():
        if not isinstance(layer, VectorLayerDef):  # raster layers are drawn by the server
            continue
        text = style_text(layer)
        path = ROOT / "styles" / f"{layer.style_name}.json"
        if check:
            if not path.exists() or path.read_text(encoding="utf-8") != text:
                stale.append(path.name)
        else:
            path.write_text(text, encoding="utf-8")
    if stale:
        print("out of date (run styles/build.py): " + ", ".join(stale), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
