"""Build step of the package (the metadata is in pyproject.toml).

A wheel must run without the source tree: besides the code it carries the layer definitions
(`layers/`), the styles (`styles/`) and the web map's MapLibre GL JS build from npm
(`services/web/node_modules/maplibre-gl/dist`), jsPDF and the DejaVu Sans font (the print),
copied into the packages as `gis/bundled/layers`, `gis/bundled/styles` and
`services/web/vendor/{maplibre-gl,jspdf,dejavu}`, and the map's label glyphs
(`gis/bundled/fonts`, made here by gis/fonts.py from Debian's fonts-dejavu-core). Editable
installs skip these: they read the source tree itself.
"""

import shutil
import sys
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
NPM = ROOT / "services" / "web" / "node_modules"
# vendored into services/web/vendor/<name>: (source folder, files); the web map's print uses
# jsPDF and DejaVu Sans (Vietnamese coverage; Debian's fonts-dejavu-core, free licence in
# its copyright file, shipped alongside)
VENDORED = {
    "maplibre-gl": (NPM / "maplibre-gl" / "dist",
                    ("maplibre-gl.js", "maplibre-gl.css", "LICENSE.txt")),
    "jspdf": (NPM / "jspdf", ("dist/jspdf.umd.min.js", "LICENSE")),
    "dejavu": (Path("/usr/share/fonts/truetype/dejavu"), ("DejaVuSans.ttf",)),
}
DEJAVU_LICENCE = Path("/usr/share/doc/fonts-dejavu-core/copyright")


class BuildWithData(build_py):
    def run(self):
        super().run()
        if getattr(self, "editable_mode", False):
            return
        lib = Path(self.build_lib)
        for folder, pattern in (("layers", "*.y*ml"), ("styles", "*.json")):
            target = lib / "gis" / "bundled" / folder
            target.mkdir(parents=True, exist_ok=True)
            for path in sorted((ROOT / folder).glob(pattern)):
                shutil.copy2(path, target / path.name)
        for name, (source, files) in VENDORED.items():
            missing = [n for n in files if not (source / n).is_file()]
            if missing:
                raise SystemExit(f"{source} lacks {', '.join(missing)}: run `npm ci` in "
                                 "services/web and install fonts-dejavu-core (./spp setup "
                                 "does) before building the package")
            target = lib / "services" / "web" / "vendor" / name
            target.mkdir(parents=True, exist_ok=True)
            for n in files:
                shutil.copy2(source / n, target / Path(n).name)
        if DEJAVU_LICENCE.is_file():
            shutil.copy2(DEJAVU_LICENCE, lib / "services/web/vendor/dejavu/copyright")
        sys.path.insert(0, str(ROOT))
        from gis import fonts  # numpy and freetype-py: build requirements

        try:
            made = fonts.build(lib / "gis" / "bundled" / "fonts", force=True)
        except FileNotFoundError as e:
            raise SystemExit(f"label glyphs: {e}") from None
        print(f"label glyphs: {made['files']} files in {made['seconds']} s")


setup(cmdclass={"build_py": BuildWithData})
