"""Per-column encoding detection: the user sees the right Vietnamese whatever the bytes were."""

import unicodedata

import pytest

from gis.text import ENCODINGS, UnknownEncodingError, cp1258, decode_column, tcvn3, vni

WARDS = ["Phường Ninh Kiều", "Xã Phong Điền", "Phường Cái Khế", "Phường An Hòa", "Xã Nhơn Ái",
         "Phường Thới An Đông", "Xã Trường Long", "Phường Hưng Lợi"]
LAND_USE = ["Đất ở tại đô thị", "Đất ở tại nông thôn", "Đất trồng lúa nước",
            "Đất trồng cây lâu năm", "Đất nuôi trồng thủy sản", "Đất giao thông"]
OWNERS = ["Nguyễn Văn An", "Trần Thị Bích Ngọc", "Lê Hoàng Phúc", "Phạm Minh Đức",
          "Huỳnh Thị Yến", "Võ Văn Kiệt", "Bùi Hữu Nghĩa"]

WRITERS = {
    "utf-8": lambda s: s.encode("utf-8"),
    "tcvn3": tcvn3.encode,
    "vni": vni.encode,
    "cp1258": cp1258.encode,
}


def column(texts, write, repeat=25):
    """A realistic column: each value many times over, with some nulls."""
    values = [write(t) for t in texts] * repeat
    return values + [None, None]


@pytest.mark.parametrize("encoding", WRITERS)
@pytest.mark.parametrize("texts", [WARDS, LAND_USE, OWNERS], ids=["wards", "land_use", "owners"])
def test_each_encoding_is_read_back_as_vietnamese(encoding, texts):
    values = column(texts, WRITERS[encoding])
    out, report = decode_column(values)
    assert out == texts * 25 + [None, None]
    assert report.encoding == encoding
    assert report.total == len(texts) * 25
    assert report.changed == report.total  # every value had non-ASCII letters
    assert report.confidence > 0.5


def test_decomposed_utf8_comes_back_composed():
    texts = [unicodedata.normalize("NFD", t) for t in WARDS + OWNERS]
    out, report = decode_column([t.encode() for t in texts])
    assert out == WARDS + OWNERS
    assert all(unicodedata.is_normalized("NFC", t) for t in out)
    assert report.encoding == "utf-8"


@pytest.mark.parametrize("encoding", WRITERS)
def test_mostly_ascii_codes_with_a_few_vietnamese_words(encoding):
    texts = ["ODT", "LUC", "CLN", "K1-23", "ONT"] * 200 + ["Đất ở tại đô thị", "Chợ", "Ấp 3"]
    out, report = decode_column([WRITERS[encoding](t) for t in texts])
    assert out == texts
    assert report.encoding == encoding
    assert report.changed == 3


@pytest.mark.parametrize("encoding", WRITERS)
@pytest.mark.parametrize(
    "texts",
    [["Ấp 1", "Ấp 2"], ["Xã"], ["Đất ở"], ["Cà Mau"], ["Sơn"], ["Vũ"], ["Trần"], ["Đỗ"]],
)
def test_short_values(encoding, texts):
    out, _ = decode_column([WRITERS[encoding](t) for t in texts])
    assert out == texts


def test_capitals_in_each_encoding():
    texts = ["PHƯỜNG NINH KIỀU", "XÃ PHONG ĐIỀN", "THÀNH PHỐ CẦN THƠ"]
    for encoding, write in WRITERS.items():
        out, report = decode_column([write(t) for t in texts])
        assert out == texts, encoding
        assert report.encoding == encoding


def test_pure_ascii_column_is_unchanged():
    values = [b"ODT", b"LUC", None, b"Ninh Kieu", b"", b"K1-23"]
    out, report = decode_column(values)
    assert out == ["ODT", "LUC", None, "Ninh Kieu", "", "K1-23"]
    assert (report.encoding, report.changed, report.total) == ("ascii", 0, 5)


@pytest.mark.parametrize(
    "texts", [["Café", "José"], ["Müller"], ["São Paulo"], ["Zürich", "Bogotá"], ["naïve"]]
)
def test_text_that_is_not_vietnamese_is_left_as_read(texts):
    out, report = decode_column([t.encode("cp1252") for t in texts])
    assert out == texts
    assert report.changed == 0


def test_text_reading_the_same_either_way_is_not_corrupted():
    # "Thành" with à as one byte: Windows-1258 and a byte-for-byte reading agree.
    out, report = decode_column([b"Th\xe0nh ph\xe0"])
    assert out == ["Thành phà"]
    assert report.changed == 0


def test_reference_mojibake_is_repaired():
    glyphs = ["Thµnh phè CÇn Th¬", "§Êt ë t¹i ®« thÞ", "Ph\xadêng An Hßa"]
    out, report = decode_column([g.encode("cp1252") for g in glyphs])
    assert out == ["Thành phố Cần Thơ", "Đất ở tại đô thị", "Phường An Hòa"]
    assert report.encoding == "tcvn3"
    vni_glyphs = ["Caàn Thô", "Phöôøng", "Ñaát ôû", "Xin chaøo caùc baïn"]
    out, report = decode_column([g.encode("cp1252") for g in vni_glyphs])
    assert out == ["Cần Thơ", "Phường", "Đất ở", "Xin chào các bạn"]
    assert report.encoding == "vni"


def test_tcvn3_with_windows_punctuation():
    out, report = decode_column([tcvn3.encode("Đường 3 – 2 “Cần Thơ”")] * 3)
    assert out == ["Đường 3 – 2 “Cần Thơ”"] * 3
    assert report.encoding == "tcvn3"


def test_large_repetitive_column_is_decoded_once_per_distinct_value():
    values = [tcvn3.encode(w) for w in WARDS] * 5000
    out, report = decode_column(values)
    assert out[:len(WARDS)] == WARDS and len(out) == len(values)
    assert report.total == report.changed == len(values)


def test_override_forces_an_encoding():
    data = [vni.encode("Phường Cái Khế")]
    out, report = decode_column(data, override="VNI-Windows")
    assert out == ["Phường Cái Khế"] and report.encoding == "vni" and report.forced
    out, report = decode_column(data, override="latin1")
    assert out == ["Phöôøng Caùi Kheá"] and report.changed == 0


def test_unknown_override_names_the_accepted_encodings():
    with pytest.raises(ValueError, match="tcvn3") as err:
        decode_column([b"x"], override="koi8-r")
    assert isinstance(err.value, UnknownEncodingError)
    for name in ENCODINGS:
        assert name in str(err.value)
