"""The files the web service reads besides code: templates, the web map and its MapLibre build.

A wheel or image that lacks one is an incomplete installation; `gis serve` and `/ready` name
what is missing instead of answering 500s (or worse, 503s blamed on the database) later.
"""

from __future__ import annotations

from pathlib import Path

from gis.errors import SetupError

SERVICES = Path(__file__).resolve().parent


def required_files() -> list[Path]:
    from services.planning import HERE as PLANNING
    from services.planning import VENDOR, WEB, WEB_FILES

    files = [SERVICES / "templates" / "base.html", PLANNING / "templates" / "planning.html",
             *(SERVICES / "datasets" / "templates" / n for n in ("base.html", "datasets.html",
                                                                  "dataset.html"))]
    files += [WEB / name for name in sorted(WEB_FILES)]
    files += [VENDOR["maplibre-gl"] / n for n in ("maplibre-gl.js", "maplibre-gl.css")]
    return files


def missing_assets() -> list[Path]:
    return [p for p in required_files() if not p.is_file()]


def check_assets() -> None:
    missing = missing_assets()
    if missing:
        raise SetupError("the installation lacks files the web service reads: "
                         + ", ".join(map(str, missing))
                         + ". Reinstall the package (a source checkout: ./spp setup).")
