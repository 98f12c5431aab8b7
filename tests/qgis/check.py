"""QGIS (Debian's python3-qgis, headless) as a client of the platform: run by tests/test_qgis.py
with /usr/bin/python3 (QGIS's Python bindings are not in the venv), one JSON argument file in,
one JSON line of observations out; the test compares them with the database.

- every collection named is added as an OAPIF layer: validity, the features it reads, the
  values of the text fields named, and the features read under a bbox (with the URLs QGIS
  asked for, to see the bbox go to the server);
- the vector tiles drawn with the platform's MapLibre style through QgsMapBoxGlStyleConverter,
  the OAPIF layer drawn with the served QML and with the served SLD: the colour at each probe
  point of each rendering (PNG images in the artifacts folder).
"""

from __future__ import annotations

import json
import os
import sys
import urllib.request

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from qgis.core import (  # noqa: E402
    Qgis,
    QgsApplication,
    QgsCoordinateReferenceSystem,
    QgsFeatureRequest,
    QgsMapBoxGlStyleConversionContext,
    QgsMapBoxGlStyleConverter,
    QgsMapRendererSequentialJob,
    QgsMapSettings,
    QgsNetworkAccessManager,
    QgsPointXY,
    QgsRectangle,
    QgsVectorLayer,
    QgsVectorTileLayer,
)
from qgis.PyQt.QtCore import QSize  # noqa: E402
from qgis.PyQt.QtGui import QColor  # noqa: E402


def oapif(cfg: dict, collection: str, extra: str = "") -> QgsVectorLayer:
    """The layer as QGIS's "Add WFS / OGC API - Features layer" makes it: no page size given
    (QGIS chooses it from the OpenAPI document's ``limit``)."""
    return QgsVectorLayer(f"url='{cfg['ogc']}' typename='{collection}'{extra}", collection,
                          "OAPIF")


def read_collection(cfg: dict, collection: str) -> dict:
    layer = oapif(cfg, collection)
    out = {"valid": layer.isValid()}
    if not layer.isValid():
        return out
    fields = cfg["text_fields"].get(collection, [])
    texts: dict[str, set] = {f: set() for f in fields}
    n = 0
    for feat in layer.getFeatures():
        n += 1
        for f in fields:
            v = feat[f]
            if isinstance(v, str):
                texts[f].add(v)
    out["count"] = n
    out["texts"] = {f: sorted(v) for f, v in texts.items()}
    out["crs"] = layer.crs().authid()
    return out


def bbox_read(cfg: dict, urls: list[str]) -> dict:
    """Features in a bbox, the layer set to "only request features overlapping the extent"."""
    layer = oapif(cfg, cfg["bbox_collection"], " restrictToRequestBBOX='1'")
    w, s, e, n = cfg["bbox"]
    before = len(urls)
    req = QgsFeatureRequest().setFilterRect(QgsRectangle(w, s, e, n))
    fids = [f.id() for f in layer.getFeatures(req)]
    QgsApplication.processEvents()
    return {"count": len(fids), "urls": urls[before:]}


def render(cfg: dict, layer, name: str) -> list[list[int]]:
    settings = QgsMapSettings()
    settings.setLayers([layer])
    settings.setDestinationCrs(QgsCoordinateReferenceSystem("EPSG:3857"))
    settings.setBackgroundColor(QColor(255, 255, 255))
    settings.setOutputSize(QSize(*cfg["size"]))
    settings.setExtent(QgsRectangle(*cfg["extent3857"]))
    job = QgsMapRendererSequentialJob(settings)
    job.start()
    job.waitForFinished()
    image = job.renderedImage()
    image.save(os.path.join(cfg["artifacts"], f"qgis-{name}.png"))
    m2p = job.mapSettings().mapToPixel()
    out = []
    for probe in cfg["probes"]:
        p = m2p.transform(QgsPointXY(probe["x"], probe["y"]))
        c = image.pixelColor(int(round(p.x())), int(round(p.y())))
        out.append([c.red(), c.green(), c.blue()])
    return out


def fetch(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=60) as r:
        return r.read()


def main() -> None:
    cfg = json.loads(open(sys.argv[1], encoding="utf-8").read())
    app = QgsApplication([], False)
    app.initQgis()
    urls: list[str] = []
    QgsNetworkAccessManager.instance().finished.connect(  # every request, any thread
        lambda reply: urls.append(reply.request().url().toString()))
    result: dict = {"qgis": Qgis.QGIS_VERSION, "collections": {}}
    for collection in cfg["collections"]:
        result["collections"][collection] = read_collection(cfg, collection)
    QgsApplication.processEvents()
    result["urls"] = list(urls)
    result["bbox"] = bbox_read(cfg, urls)

    renders: dict = {}
    # vector tiles with the MapLibre style, converted by QGIS
    style = json.loads(fetch(cfg["mapbox_style"]))
    context = QgsMapBoxGlStyleConversionContext()
    converter = QgsMapBoxGlStyleConverter()
    converter.convert(style, context)
    tiles = QgsVectorTileLayer(f"type=xyz&url={cfg['tiles']}&zmin=0&zmax=22", "tiles")
    result["tiles_valid"] = tiles.isValid()
    result["converter_warnings"] = list(converter.warnings())
    if converter.renderer() is not None:
        tiles.setRenderer(converter.renderer())
    renders["mapbox"] = render(cfg, tiles, "mapbox-tiles")

    # the OAPIF layer with the served QML and SLD
    for fmt in ("qml", "sld"):
        path = os.path.join(cfg["artifacts"], f"qgis-style.{fmt}")
        with open(path, "wb") as f:
            f.write(fetch(cfg[fmt]))
        layer = oapif(cfg, cfg["styled"])
        if fmt == "qml":
            msg, ok = layer.loadNamedStyle(path)
        else:
            msg, ok = layer.loadSldStyle(path)
        result[f"{fmt}_loaded"] = [bool(ok), msg]
        layer.setLabelsEnabled(False)  # the probes look at fills, not at parcel numbers
        result[f"{fmt}_renderer"] = layer.renderer().type() if layer.renderer() else None
        renders[fmt] = render(cfg, layer, f"{fmt}-oapif")
    result["renders"] = renders
    print(json.dumps(result, ensure_ascii=False), flush=True)
    os._exit(0)  # QGIS 3.22's exitQgis() crashes in a headless script after OAPIF layers


if __name__ == "__main__":
    main()
