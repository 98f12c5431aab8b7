"""Data-frame helper: text columns read byte-for-byte (latin1) or as Unicode come out as NFC."""

import unicodedata

import numpy as np
import pandas as pd
import pytest

from gis.text import TextColumnError, UnknownEncodingError, normalize_frame, tcvn3, vni

WARDS = ["Phường Ninh Kiều", "Xã Phong Điền", "Phường Cái Khế"]
OWNERS = ["Nguyễn Văn An", None, "Lê Thị Mai"]


def as_read(data: bytes) -> str:
    """What pyogrio gives for a DBF read with encoding="latin1": one char per byte."""
    return data.decode("latin1")


@pytest.fixture
def frame():
    return pd.DataFrame(
        {
            "ten_xa": [as_read(tcvn3.encode(w)) for w in WARDS],
            "chu_su_dung": [n and as_read(vni.encode(n)) for n in OWNERS],
            "ghi_chu": [unicodedata.normalize("NFD", w) for w in WARDS],  # e.g. from GeoJSON
            "ma_loai_dat": ["ODT", "LUC", "ONT"],
            "dien_tich": [120.5, 88.0, np.nan],
        },
        dtype=object,
    ).astype({"dien_tich": float})


def test_every_text_column_becomes_vietnamese_nfc(frame):
    out, report = normalize_frame(frame)
    assert out["ten_xa"].tolist() == WARDS
    assert out["chu_su_dung"].tolist() == OWNERS
    assert out["ghi_chu"].tolist() == WARDS
    assert out["ma_loai_dat"].tolist() == ["ODT", "LUC", "ONT"]
    assert out["dien_tich"].iloc[:2].tolist() == [120.5, 88.0]
    assert {k: r.encoding for k, r in report.items()} == {
        "ten_xa": "tcvn3",
        "chu_su_dung": "vni",
        "ghi_chu": "unicode",
        "ma_loai_dat": "ascii",
    }
    assert report["chu_su_dung"].changed == 2 and report["chu_su_dung"].total == 2
    assert report["ghi_chu"].changed == 3  # decomposed -> composed
    assert report["ma_loai_dat"].changed == 0


def test_input_frame_is_not_modified(frame):
    before = frame.copy()
    normalize_frame(frame)
    pd.testing.assert_frame_equal(frame, before)


def test_pandas_string_dtype_is_kept():
    df = pd.DataFrame({"ten": pd.array([as_read(tcvn3.encode(w)) for w in WARDS], dtype="string")})
    out, _ = normalize_frame(df)
    assert out["ten"].dtype == df["ten"].dtype
    assert out["ten"].tolist() == WARDS


def test_utf8_read_as_latin1_is_repaired():
    df = pd.DataFrame({"ten": [as_read(w.encode("utf-8")) for w in WARDS]})
    out, report = normalize_frame(df)
    assert out["ten"].tolist() == WARDS and report["ten"].encoding == "utf-8"


def test_override(frame):
    out, report = normalize_frame(frame, overrides={"ten_xa": "latin1"})
    assert out["ten_xa"].tolist() == frame["ten_xa"].tolist()
    assert report["ten_xa"].forced


def test_override_errors(frame):
    with pytest.raises(UnknownEncodingError, match="tcvn3, vni"):
        normalize_frame(frame, overrides={"ten_xa": "VISCII"})
    with pytest.raises(TextColumnError, match="no_such_column"):
        normalize_frame(frame, overrides={"no_such_column": "tcvn3"})
    with pytest.raises(TextColumnError, match="already holds Unicode"):
        normalize_frame(frame, overrides={"ghi_chu": "tcvn3"})
