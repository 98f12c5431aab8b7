"""TCVN3, VNI-Windows and Windows-1258 codecs, NFC and search keys."""

import shutil
import subprocess
import unicodedata

import pytest

from gis.text import cp1258, fold_diacritics, nfc, tcvn3, vni
from gis.text.letters import LETTERS

LOWER = [c for c in LETTERS if c.islower()]
UPPER = [c for c in LETTERS if c.isupper()]
ABC_CAPITALS = "ĂÂÊÔƠƯĐ"


def test_alphabet_has_134_letters():
    assert len(LETTERS) == len(set(LETTERS)) == 134
    assert "ầ" in LETTERS and "Đ" in LETTERS and "a" not in LETTERS


# --- TCVN3 ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "glyphs, text",
    [
        ("Thµnh phè CÇn Th¬", "Thành phố Cần Thơ"),
        ("§Êt ë t¹i ®« thÞ", "Đất ở tại đô thị"),
        ("Ph\xadêng", "Phường"),
    ],
)
def test_tcvn3_reference_examples(glyphs, text):
    # The reference shows TCVN3 bytes as a cp1252 font draws them.
    data = glyphs.encode("cp1252")
    assert tcvn3.decode(data) == text
    assert tcvn3.encode(text) == data


def test_tcvn3_every_lower_case_letter_round_trips():
    for c in LOWER:
        data = tcvn3.encode(c)
        assert len(data) == 1 and data[0] >= 0x80, c
        assert tcvn3.decode(data, restore_case=False) == c


def test_tcvn3_capitals_keep_case_only_where_abc_has_a_byte():
    for c in UPPER:
        back = tcvn3.decode(tcvn3.encode(c), restore_case=False)
        assert back == (c if c in ABC_CAPITALS else c.lower()), c


@pytest.mark.parametrize(
    "text",
    ["CẦN THƠ", "XÃ PHONG ĐIỀN", "PHƯỜNG NINH KIỀU", "Xã Nhơn Ái", "Ấp Nhơn Lộc 1",
     "Ủy ban nhân dân", "Đất ở tại đô thị", "Trụ sở ỦY BAN"],
)
def test_tcvn3_capitals_typed_in_vntimeh_come_back(text):
    assert tcvn3.decode(tcvn3.encode(text)) == text


def test_tcvn3_ambiguous_case_is_left_as_title_case():
    # "CỜ ĐỎ" and "Cờ Đỏ" are the same bytes; nothing shows the capitals.
    assert tcvn3.decode(tcvn3.encode("CỜ ĐỎ")) == "Cờ Đỏ"


def test_tcvn3_punctuation_bytes_read_as_windows_1252():
    assert tcvn3.decode(b"\x93Ph\xad\xeang\x94 \x96 50m\xb2") == "“Phường” – 50m²"
    assert tcvn3.encode("“Phường” – 50m²") == b"\x93Ph\xad\xeang\x94 \x96 50m\xb2"


def test_tcvn3_encode_errors():
    with pytest.raises(UnicodeEncodeError):
        tcvn3.encode("Cần Thơ 中")
    assert tcvn3.encode("Thơ 中", errors="replace") == b"Th\xac ?"


def _iconv(byte: int) -> str:
    run = subprocess.run(
        ["iconv", "-f", "TCVN5712-1", "-t", "UTF-8"], input=bytes([byte]), capture_output=True
    )
    return run.stdout.decode("utf-8")


@pytest.mark.skipif(shutil.which("iconv") is None, reason="iconv not installed")
def test_tcvn3_table_agrees_with_glibc_iconv():
    for byte, letter in tcvn3.DECODE.items():
        assert 0x80 <= byte <= 0xFF
        assert _iconv(byte) == letter, hex(byte)


# --- VNI-Windows ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "glyphs, text",
    [
        ("Caàn Thô", "Cần Thơ"),
        ("Phöôøng", "Phường"),
        ("Ñaát ôû", "Đất ở"),
        ("Xin chaøo caùc baïn", "Xin chào các bạn"),
        ("CAÀN THÔ", "CẦN THƠ"),
        ("PHÖÔØNG NINH KIEÀU", "PHƯỜNG NINH KIỀU"),
        ("Nguyeãn Vaên An", "Nguyễn Văn An"),
    ],
)
def test_vni_reference_examples(glyphs, text):
    data = glyphs.encode("cp1252")
    assert vni.decode(data) == text
    assert vni.encode(text) == data


def test_vni_table_covers_every_letter_and_round_trips():
    assert set(vni.ENCODE) == set(LETTERS)
    for c in LETTERS:
        assert vni.decode(vni.encode(c)) == c, c
        assert vni.decode(vni.encode(f"x{c}y")) == f"x{c}y", c


def test_vni_longest_match_and_sloppy_case():
    assert vni.decode("ô".encode("cp1252")) == "ơ"  # alone: ơ
    assert vni.decode("oâ".encode("cp1252")) == "ô"  # o + circumflex glyph: ô
    assert vni.decode("ôø".encode("cp1252")) == "ờ"
    assert vni.decode("Aáp".encode("cp1252")) == "Ấp"  # capital base, small mark


def test_vni_mark_without_base_is_kept():
    assert vni.decode_glyphs("Café") == ("Café", 1)


# --- Windows-1258, NFC, search keys --------------------------------------------------------


def test_cp1258_round_trips_with_combining_tones():
    assert cp1258.encode("Phường") == b"Ph\xfd\xf5\xccng"
    assert cp1258.decode(b"Ph\xfd\xf5\xccng") == "Phường"
    for c in LETTERS:
        assert cp1258.decode(cp1258.encode(c)) == c, c


def test_nfc_makes_decomposed_text_equal():
    decomposed = unicodedata.normalize("NFD", "Phường Ninh Kiều")
    assert decomposed != "Phường Ninh Kiều"
    assert nfc(decomposed) == "Phường Ninh Kiều"


@pytest.mark.parametrize(
    "text, key",
    [
        ("Phường Ninh Kiều", "phuong ninh kieu"),
        ("Xã  Phong Điền ", "xa phong dien"),
        (unicodedata.normalize("NFD", "ĐẤT Ở TẠI ĐÔ THỊ"), "dat o tai do thi"),
    ],
)
def test_fold_diacritics(text, key):
    assert fold_diacritics(text) == key
