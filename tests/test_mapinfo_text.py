"""MapInfo tables: the text detection decides what the bytes are, whatever charset the table
declares — like a Shapefile's .cpg. GDAL recodes from a charset it knows (WindowsLatin1 →
CP1252), which would turn TCVN3 or VNI text into mojibake; the loader reads such a table
through a Neutral view. Tables are written by GDAL's MapInfo driver (.tab and .mif). No
database."""

from __future__ import annotations

import warnings

import geopandas as gpd
import pytest
import shapely

from gis.loader.source import iter_batches, open_source
from gis.loader.textcols import TextDecoder
from gis.text import cp1258, tcvn3, vni
from tests.builders import write_mapinfo

NAMES = ["Phường Ninh Kiều", "Xã Mỹ Khánh", "Thành phố Cần Thơ – “Tây Đô”", "Đất ở tại đô thị"]


@pytest.mark.parametrize("suffix", [".tab", ".mif"])
@pytest.mark.parametrize(("charset", "page"), [
    ("WindowsVietnamese", "cp1258"), ("WindowsLatin1", "cp1252"), ("Neutral", None),
    ("ISO8859_1", "latin1"), ("WindowsLatin2", "cp1250")])
def test_declared_charset_is_reported_and_detection_decides(tmp_path, charset, page, suffix):
    frame = gpd.GeoDataFrame({"TCVN": NAMES, "VNI": NAMES, "W1258": NAMES},
                             geometry=[shapely.Point(585000 + i, 1109000) for i in range(4)])
    path = write_mapinfo(frame, tmp_path / f"t{suffix}",
                         {"TCVN": tcvn3.encode, "VNI": vni.encode, "W1258": cp1258.encode},
                         charset)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the loader collects them (tested with a load)
        src = open_source(path)
        decoder = TextDecoder(None, src.raw_text)
        batch = decoder.decode(next(iter_batches(src)).frame)
    assert src.declared_charset == f"MapInfo charset {charset}" + (f" ({page})" if page else "")
    for column in ("TCVN", "VNI", "W1258"):
        assert batch[column].tolist() == NAMES, column
    assert {k: v["encoding"] for k, v in decoder.report().items()} == {
        "TCVN": "tcvn3", "VNI": "vni", "W1258": "cp1258"}
    assert path.read_text(encoding="latin1").count(charset) >= 1  # the delivery is untouched
