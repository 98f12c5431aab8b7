"""MapInfo tables and their charset: the bytes of the text reach gis.text untouched, as for a
Shapefile whatever its .cpg says.

A table declares its charset (`!charset WindowsLatin1` in a .tab, `Charset "..."` in a .mif).
Vietnamese departments' tables hold TCVN3, VNI or Windows-1258 text whatever they declare.
GDAL recodes from a charset it knows (WindowsLatin1 → CP1252 → UTF-8), which turns font-encoded
text into mojibake no detection can undo; a charset it does not know (WindowsVietnamese) it
reads unrecoded, with a warning. So a table whose charset GDAL would recode is read through a
*view* that declares `Neutral`: a temporary folder with a patched copy of the small header
file and links to the data files.
"""

from __future__ import annotations

import atexit
import re
import shutil
import tempfile
import warnings
from pathlib import Path

import pyogrio

_TAB_CHARSET = re.compile(rb'(!charset\s+)([A-Za-z0-9_-]+)|(Charset\s+")([^"]*)(")', re.I)
_NOT_KNOWN = "Cannot find iconv encoding corresponding to MapInfo"
MAX_MIF_COPY = 512 * 1024 * 1024  # a .mif view is a copy (header and geometry in one file)


def declared(path: Path) -> str | None:
    """The charset name a .tab or .mif declares, as written."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(8192)
    except OSError:
        return None
    m = _TAB_CHARSET.search(head)
    if not m:
        return None
    return (m.group(2) or m.group(4)).decode("ascii", "replace")


def _gdal_recodes(path: Path) -> bool:
    """Whether GDAL recodes this table's text (it knows the declared charset). Its warnings
    are passed on to whoever collects them (gis.loader.libwarnings)."""
    with warnings.catch_warnings(record=True) as records:
        warnings.simplefilter("always")
        try:
            pyogrio.read_info(str(path))
        except Exception:  # noqa: BLE001 - the real open reports a damaged table
            return False
    for w in records:
        warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    return not any(_NOT_KNOWN in str(w.message) for w in records)


def _neutral(data: bytes) -> bytes:
    def sub(m: re.Match) -> bytes:
        if m.group(1):
            return m.group(1) + b"Neutral"
        return m.group(3) + b"Neutral" + m.group(5)
    return _TAB_CHARSET.sub(sub, data, count=2)


def unrecoded_path(path: Path) -> Path:
    """The path GDAL should open so it hands over the table's bytes as they are: the table
    itself, or a Neutral view of it."""
    charset = declared(path)
    if charset is None or charset.lower() == "neutral" or not _gdal_recodes(path):
        return path
    folder = Path(tempfile.mkdtemp(prefix="spp-mapinfo-"))
    atexit.register(shutil.rmtree, folder, True)
    for sibling in path.parent.glob(path.stem + ".*"):
        if sibling.suffix.lower() in (".tab", ".mif"):
            continue
        (folder / sibling.name).symlink_to(sibling.resolve())
    view = folder / path.name
    if path.suffix.lower() == ".tab" or path.stat().st_size <= MAX_MIF_COPY:
        with open(path, "rb") as src, open(view, "wb") as out:
            out.write(_neutral(src.read(8192)))
            shutil.copyfileobj(src, out)
        return view
    return path  # an enormous .mif: read as GDAL does (its text recoded)
