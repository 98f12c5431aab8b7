"""Glyph PBFs for the map's labels: signed distance fields (SDF) of a Debian font's glyphs in
MapLibre's glyph protobuf, made here so no label needs a font server outside.

The format is MapLibre's (``glyphs { stacks { name, range, glyphs { id, bitmap, width, height,
left, top, advance } } }``): 256 code points per file, glyphs drawn at 24 px with a 3 px border,
distance radius 8 px and the edge at 0.75 (value 192), as the style renderer expects. The font is
rasterised by FreeType (freetype-py); the distance is an exact Euclidean transform (the
separable squared-distance form, computed with numpy) of the anti-aliased coverage; the protobuf
is written by hand (three small messages).
"""

from __future__ import annotations

import re
import threading
import time
from functools import lru_cache
from pathlib import Path

import numpy as np

SIZE, BUFFER, RADIUS, CUTOFF = 24, 3, 8.0, 0.25
VERSION = 2  # of this generator: part of the served ETag
RANGE = 256
# what Vietnamese text needs: Basic Latin + Latin-1, Latin Extended-A/B, spacing modifiers and
# combining marks (U+0300–036F), Latin Extended Additional (U+1E00–1EFF: ệ, ở, ữ…), punctuation
RANGES = (0, 256, 512, 768, 7680, 8192)
# font stacks served: name -> (Debian package, font file). Names are what styles ask for.
FONTS = {
    "DejaVu Sans Regular": ("fonts-dejavu-core", "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"),
    "DejaVu Sans Bold": ("fonts-dejavu-core",
                         "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"),
}
# the fonts' copyright and licence (Bitstream Vera; DejaVu's changes public domain), copied
# next to the glyphs made from them
COPYRIGHT = Path("/usr/share/doc/fonts-dejavu-core/copyright")
# made by `gis fonts build` (./spp setup) or, in a wheel, by setup.py; light imports only:
# setup.py runs this module in its build environment (numpy and freetype-py)
BUILT = Path(__file__).resolve().parent / "bundled" / "fonts"
_LOCK = threading.Lock()  # a FreeType face is not thread-safe
RANGE_RE = re.compile(r"^(\d{1,5})-(\d{1,5})$")


def parse_range(text: str) -> int | None:
    """``"7680-7935"`` -> 7680; anything but a 256-aligned range within U+0000–FFFF -> None."""
    m = RANGE_RE.match(text)
    if not m:
        return None
    start, end = int(m[1]), int(m[2])
    if start % RANGE or end != start + RANGE - 1 or end > 0xFFFF:
        return None
    return start


def first_known(fontstack: str) -> str | None:
    """The first font of a comma-separated stack that we serve (None: none of them)."""
    for name in fontstack.split(",")[:16]:
        if name.strip() in FONTS:
            return name.strip()
    return None


# -- protobuf ---------------------------------------------------------------------------------
def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        b, n = n & 0x7F, n >> 7
        out.append(b | (0x80 if n else 0))
        if not n:
            return bytes(out)


def _field(num: int, value: int | bytes, signed: bool = False) -> bytes:
    if isinstance(value, bytes):
        return _varint(num << 3 | 2) + _varint(len(value)) + value
    if signed:  # sint32: zigzag
        value = (value << 1) ^ (value >> 31)
    return _varint(num << 3) + _varint(value)


# -- SDF --------------------------------------------------------------------------------------
def _edt_squared(f: np.ndarray) -> np.ndarray:
    """Exact squared Euclidean distance transform of the cost grid ``f`` (0 on seeds): the
    minimum over columns then rows of (offset² + f), by broadcasting (glyphs are tiny)."""
    h, w = f.shape
    ys, xs = np.arange(h), np.arange(w)
    dy = (ys[:, None] - ys[None, :]) ** 2  # (h, h)
    g = np.min(f[None, :, :] + dy[:, :, None], axis=1)  # along columns -> (h, w)
    dx = (xs[:, None] - xs[None, :]) ** 2  # (w, w)
    return np.min(g[:, None, :] + dx[None, :, :], axis=2)


def sdf(coverage: np.ndarray) -> bytes:
    """The SDF bytes of an anti-aliased coverage bitmap (0–255) that already has its border."""
    a = coverage.astype(np.float64) / 255.0
    inf = 1e20
    # sub-pixel edge from the coverage (as MapLibre's TinySDF does): partly covered pixels
    # seed both transforms with their distance to the 0.5 iso-line
    outer = np.where(a >= 1, 0.0, np.where(a <= 0, inf, np.maximum(0, 0.5 - a) ** 2))
    inner = np.where(a >= 1, inf, np.where(a <= 0, 0.0, np.maximum(0, a - 0.5) ** 2))
    d = np.sqrt(_edt_squared(outer)) - np.sqrt(_edt_squared(inner))
    v = np.clip(np.round(255 - 255 * (d / RADIUS + CUTOFF)), 0, 255)
    return v.astype(np.uint8).tobytes()


@lru_cache(maxsize=4)
def _face(path: str):
    import freetype  # freetype-py: its wheel carries FreeType

    face = freetype.Face(path)
    face.set_char_size(SIZE * 64)
    return face


def glyph(face, code: int) -> bytes | None:
    """One glyph message, or None when the font lacks the code point."""
    import freetype

    if not face.get_char_index(code):
        return None
    face.load_char(code, freetype.FT_LOAD_RENDER)
    g = face.glyph
    bm = g.bitmap
    w, h = bm.width, bm.rows
    advance = int(round(g.advance.x / 64))
    msg = _field(1, code)
    if w and h:
        cov = np.array(bm.buffer, dtype=np.uint8).reshape(h, bm.pitch)[:, :w]
        cov = np.pad(cov, BUFFER)
        msg += _field(2, sdf(cov))
    else:
        w = h = 0
    # `top` from the font's ascender line, not the baseline: the origin server glyphs use and
    # MapLibre's shaping (SHAPING_DEFAULT_OFFSET) expects; from the baseline, text sits an em
    # too high (above its line, over its point)
    top = g.bitmap_top - int(round(face.size.ascender / 64))
    return (msg + _field(3, w) + _field(4, h) + _field(5, g.bitmap_left, signed=True)
            + _field(6, top, signed=True) + _field(7, advance))


def render_range(name: str, start: int) -> bytes:
    """The PBF of 256 code points from ``start`` in the font ``name`` (a key of FONTS)."""
    with _LOCK:
        face = _face(FONTS[name][1])
        glyphs = b"".join(_field(3, m) for code in range(start, start + RANGE)
                          if (m := glyph(face, code)) is not None)
    stack = _field(1, name.encode()) + _field(2, f"{start}-{start + RANGE - 1}".encode()) + glyphs
    return _field(1, stack)


def _stamps(ranges) -> str:
    return "\n".join([*(stamp(n) for n in FONTS), ",".join(map(str, ranges))]) + "\n"


def build(out: Path = BUILT, ranges=RANGES, force: bool = False) -> dict:
    """Write ``out/<font>/<range>.pbf`` for every font and range (unless already made from
    these font files by this generator); returns counts and seconds."""
    t0, files = time.monotonic(), 0
    marker = out / ".built"
    if not force and marker.is_file() and marker.read_text() == _stamps(ranges):
        return {"fonts": len(FONTS), "files": 0, "seconds": 0.0, "folder": str(out),
                "current": True}
    for name, (package, path) in FONTS.items():
        if not Path(path).is_file():
            raise FileNotFoundError(f"{path} is missing: install the Debian package {package} "
                                    "(./spp setup does)")
        folder = out / name
        folder.mkdir(parents=True, exist_ok=True)
        for start in ranges:
            (folder / f"{start}-{start + RANGE - 1}.pbf").write_bytes(render_range(name, start))
            files += 1
    if COPYRIGHT.is_file():
        (out / "LICENSE").write_bytes(COPYRIGHT.read_bytes())
    marker.write_text(_stamps(ranges))
    return {"fonts": len(FONTS), "files": files, "seconds": round(time.monotonic() - t0, 2),
            "folder": str(out)}


def stamp(name: str) -> str:
    """What the glyphs of ``name`` depend on: this generator and the font file's version."""
    path = Path(FONTS[name][1])
    st = path.stat() if path.is_file() else None
    return f"{VERSION}:{path}:{st.st_size if st else 0}:{st.st_mtime_ns if st else 0}"


def pbf(name: str, start: int) -> bytes | None:
    """A range's PBF: the built file, else made now from the font (and kept); None: no font."""
    built = BUILT / name / f"{start}-{start + RANGE - 1}.pbf"
    if built.is_file():
        return built.read_bytes()
    if not Path(FONTS[name][1]).is_file():
        return None
    return _made(name, start)


@lru_cache(maxsize=64)
def _made(name: str, start: int) -> bytes:
    return render_range(name, start)
