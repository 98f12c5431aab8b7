"""Open a department delivery (any GDAL vector format, zipped or not, or a CSV with X/Y)
and read it in batches with bounded memory."""

from __future__ import annotations

import csv
import hashlib
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyogrio
import shapely

from gis.errors import SPPError
from gis.loader import mapinfo
from gis.loader.shpcheck import check_shapefile

# Formats whose text is stored in a legacy 8-bit code page: read byte-preserving (latin1) and
# let gis.text decide what the bytes are, whatever the .cpg says.
RAW_TEXT_DRIVERS = {"ESRI Shapefile", "MapInfo File", "DGN", "DXF", "CSV"}
SHAPEFILE_PARTS = (".shp", ".shx", ".dbf", ".prj", ".cpg")
DATASET_SUFFIXES = (".shp", ".gpkg", ".geojson", ".json", ".gdb", ".tab", ".mif", ".kml",
                    ".dxf", ".dgn", ".csv", ".fgb")
COORD_NAMES = [("x", "y"), ("lon", "lat"), ("longitude", "latitude"), ("long", "lat"),
               ("kinh_do", "vi_do"), ("kinhdo", "vido"), ("easting", "northing"),
               ("toa_do_x", "toa_do_y"), ("toadox", "toadoy"), ("e", "n")]


class SourceError(SPPError):
    exit_code = 2


@dataclass
class Source:
    path: Path  # what the user named
    gdal_path: str  # what GDAL opens (may be /vsizip/...)
    driver: str
    layer: str | None
    sha256: str
    size: int
    feature_count: int | None
    crs_text: str | None  # the source's own CRS text (raw .prj when there is one)
    fields: list[str]
    raw_text: bool
    coord_fields: tuple[str, str] | None = None  # CSV: coordinate columns as named in the file
    layers_available: list[str] = field(default_factory=list)
    declared_charset: str | None = None  # what a .cpg or MapInfo header claims (not trusted)

    @property
    def is_csv(self) -> bool:
        return self.driver == "CSV"

    @property
    def label(self) -> str:
        return f"{self.path.name}" + (f" (layer {self.layer})" if self.layer else "")


@dataclass
class Batch:
    frame: pd.DataFrame  # attributes
    geoms: np.ndarray | None  # shapely geometries in source coordinates (None for CSV)
    coords: tuple[np.ndarray, np.ndarray] | None  # CSV: first and second coordinate columns
    rows: np.ndarray  # 1-based row numbers in the source
    coord_text: tuple[np.ndarray, np.ndarray] | None = None  # CSV: coordinates as written


def sha256_of(paths: list[Path]) -> tuple[str, int]:
    h = hashlib.sha256()
    size = 0
    for p in paths:
        with open(p, "rb") as fh:
            while chunk := fh.read(1 << 20):
                h.update(chunk)
                size += len(chunk)
    return h.hexdigest(), size


def dataset_files(path: Path) -> list[Path]:
    if path.is_dir():
        return sorted(p for p in path.rglob("*") if p.is_file())
    if path.suffix.lower() == ".shp":
        return [path.with_suffix(s) for s in SHAPEFILE_PARTS if path.with_suffix(s).exists()]
    if path.suffix.lower() == ".tab":
        return sorted(p for p in path.parent.glob(path.stem + ".*") if p.is_file())
    return [path]


def _check_shapefile(path: Path, exists, open_part=None) -> None:
    """All parts there, and their headers agree (gis.loader.shpcheck)."""
    for part in (".shx", ".dbf"):
        if not exists(path.with_suffix(part)) and not exists(path.with_suffix(part.upper())):
            raise SourceError(
                f"{path}: the Shapefile is incomplete, its {part} part is missing. A Shapefile "
                f"is delivered as .shp + .shx + .dbf (+ .prj, .cpg); ask for the whole set or "
                f"a zip of it.")

    def open_file(part: str):
        p = path.with_suffix(part)
        p = p if p.exists() else path.with_suffix(part.upper())
        return open(p, "rb"), p.stat().st_size

    check_shapefile(path.stem, open_part or open_file)


def _check_zipped_shapefile(archive: zipfile.ZipFile, inner: str) -> None:
    names = {n.lower(): n for n in archive.namelist()}

    def open_member(part: str):
        info = archive.getinfo(names[str(Path(inner).with_suffix(part)).lower()])
        return archive.open(info), info.file_size

    _check_shapefile(Path(inner), lambda p: str(p).lower() in names, open_member)


def _resolve_zip(path: Path, layer: str | None) -> tuple[str, str | None]:
    try:
        archive = zipfile.ZipFile(path)
        names = archive.namelist()
    except zipfile.BadZipFile as exc:
        raise SourceError(f"{path}: not a readable zip archive ({exc}); re-export it") from exc
    datasets = sorted({re.sub(r"(\.gdb)/.*$", r"\1", n) for n in names
                       if n.lower().endswith(DATASET_SUFFIXES) or ".gdb/" in n.lower()})
    if not datasets:
        raise SourceError(f"{path}: the zip holds no dataset GDAL can read "
                          f"(looked for {', '.join(DATASET_SUFFIXES)})")
    chosen = datasets[0]
    if len(datasets) > 1:
        stems = {Path(d).stem: d for d in datasets}
        if layer in stems:
            chosen, layer = stems[layer], None
        else:
            raise SourceError(f"{path}: the zip holds {len(datasets)} datasets "
                              f"({', '.join(datasets)}); choose one with --source-layer NAME "
                              f"(one of: {', '.join(stems)})")
    if chosen.lower().endswith(".shp"):
        _check_zipped_shapefile(archive, chosen)
    return f"/vsizip/{path}/{chosen}", layer


def _read_prj(path: Path, gdal_path: str) -> str | None:
    if gdal_path.startswith("/vsizip/"):
        archive, inner = gdal_path[len("/vsizip/"):].split(".zip/", 1)
        with zipfile.ZipFile(archive + ".zip") as z:
            prj = str(Path(inner).with_suffix(".prj"))
            return z.read(prj).decode("latin1") if prj in z.namelist() else None
    prj = path.with_suffix(".prj")
    return prj.read_text(encoding="latin1") if prj.exists() else None


# MapInfo charset names (the .tab/.mif `Charset` clause) and the code page they stand for;
# like a .cpg the claim is only reported: gis.text detects what the bytes really are.
MAPINFO_CHARSETS = {
    "neutral": None, "windowsvietnamese": "cp1258", "windowslatin1": "cp1252",
    "windowslatin2": "cp1250", "windowscyrillic": "cp1251", "windowsgreek": "cp1253",
    "windowsturkish": "cp1254", "windowshebrew": "cp1255", "windowsarabic": "cp1256",
    "windowsbalticrim": "cp1257", "windowsthai": "cp874", "iso8859_1": "latin1",
    "utf-8": "utf-8", "utf8": "utf-8", "codepage437": "cp437", "codepage850": "cp850",
}


def declared_charset(path: Path, gdal_path: str, driver: str) -> str | None:
    """What the file says its text encoding is: a Shapefile's .cpg, a MapInfo table's
    Charset clause (WindowsVietnamese, Neutral...)."""
    if gdal_path.startswith("/vsizip/"):
        return None
    try:
        if driver == "ESRI Shapefile":
            cpg = next((path.with_suffix(s) for s in (".cpg", ".CPG")
                        if path.with_suffix(s).exists()), None)
            return f".cpg {cpg.read_text(encoding='latin1').strip()[:40]}" if cpg else None
        if driver == "MapInfo File" and path.is_file():
            name = mapinfo.declared(path)
            if name:
                page = MAPINFO_CHARSETS.get(name.lower())
                return f"MapInfo charset {name}" + (f" ({page})" if page else "")
    except OSError:
        return None
    return None


def open_source(path: Path, layer: str | None = None, x_field: str | None = None,
                y_field: str | None = None) -> Source:
    path = Path(path)
    if not path.exists():
        raise SourceError(f"{path}: no such file or folder")
    gdal_path, wanted_layer = str(path), layer
    if path.suffix.lower() == ".zip":
        gdal_path, wanted_layer = _resolve_zip(path, layer)
    elif path.suffix.lower() == ".shp":
        _check_shapefile(path, Path.exists)
    elif path.is_dir():  # a folder of Shapefiles: GDAL skips a damaged one without a word
        for shp in sorted(path.glob("*.[sS][hH][pP]")):
            _check_shapefile(shp, Path.exists)
    elif path.suffix.lower() in (".tab", ".mif"):  # text bytes as they are, whatever charset
        gdal_path = str(mapinfo.unrecoded_path(path))
    files = dataset_files(path)
    sha, size = sha256_of(files)
    if path.suffix.lower() == ".csv" or gdal_path.lower().endswith(".csv"):
        return _open_csv(path, gdal_path, sha, size, x_field, y_field)
    try:
        layers = [name for name, _ in pyogrio.list_layers(gdal_path)]
    except Exception as exc:  # GDAL raises DataSourceError and friends
        raise SourceError(f"{path}: GDAL cannot open it as a vector dataset: "
                          f"{str(exc).strip()}. Nothing was changed. Check the file is complete "
                          "and not corrupt; if it is cut short or damaged, ask the department "
                          "for a fresh export.") from exc
    if not layers:
        raise SourceError(f"{path}: GDAL finds no readable layer in it; the file is damaged or "
                          "not a vector dataset. Nothing was changed. Ask the department for a "
                          "fresh export.")
    if wanted_layer is None:
        if len(layers) > 1 and path.suffix.lower() not in (".dxf", ".dgn"):
            raise SourceError(f"{path}: it holds {len(layers)} layers ({', '.join(layers)}); "
                              "choose one with --source-layer NAME")
        wanted_layer = layers[0] if layers else None
    elif wanted_layer not in layers:
        raise SourceError(f"{path}: no layer {wanted_layer!r}; its layers are: "
                          f"{', '.join(layers)}")
    try:
        info = pyogrio.read_info(gdal_path, layer=wanted_layer, encoding="latin1")
    except Exception as exc:
        raise SourceError(f"{path}: cannot read layer {wanted_layer!r} ({str(exc).strip()}); "
                          "the file is damaged or incomplete. Nothing was changed. Ask the "
                          "department for a fresh export.") from exc
    driver = info["driver"]
    crs_text = _read_prj(path, gdal_path) if driver == "ESRI Shapefile" else None
    crs_text = crs_text or info.get("crs")
    if driver in ("DXF", "DGN") and info.get("geometry_type") in (None, "Unknown"):
        pass  # CAD files mix geometry types; the layer type filter sorts them out
    return Source(path, gdal_path, driver, wanted_layer if len(layers) > 1 else None, sha, size,
                  info.get("features"), crs_text, [str(f) for f in info["fields"]],
                  driver in RAW_TEXT_DRIVERS, layers_available=layers,
                  declared_charset=declared_charset(path, gdal_path, driver))


def _delimiter(path: Path) -> str:
    with open(path, encoding="latin1") as fh:
        sample = fh.read(65536)
    try:
        return csv.Sniffer().sniff(sample, delimiters=",;\t|").delimiter
    except csv.Error:
        return ","


def _open_csv(path: Path, gdal_path: str, sha: str, size: int, x_field: str | None,
              y_field: str | None) -> Source:
    if gdal_path.startswith("/vsizip/"):
        raise SourceError(f"{path}: unzip CSV deliveries before loading them")
    try:
        head = pd.read_csv(path, nrows=5, dtype=str, encoding="latin1", sep=_delimiter(path))
    except (pd.errors.ParserError, UnicodeDecodeError, pd.errors.EmptyDataError) as exc:
        raise SourceError(f"{path}: not a readable CSV table ({exc})") from exc
    fields = [str(c) for c in head.columns]
    lower = {c.lower().strip(): c for c in fields}
    if x_field or y_field:
        missing = [f for f in (x_field, y_field) if not f or f not in fields]
        if missing:
            raise SourceError(f"{path}: coordinate column(s) {missing} not in the table; its "
                              f"columns: {', '.join(fields)}. Fix --x-field/--y-field.")
        coords = (x_field, y_field)
    else:
        coords = next(((lower[a], lower[b]) for a, b in COORD_NAMES
                       if a in lower and b in lower), None)
        if coords is None:
            raise SourceError(f"{path}: no coordinate columns found (looked for X/Y, lon/lat, "
                              f"kinh_do/vi_do, ...); its columns: {', '.join(fields)}. "
                              "Name them with --x-field and --y-field.")
    with open(path, "rb") as fh:
        n = sum(chunk.count(b"\n") for chunk in iter(lambda: fh.read(1 << 20), b"")) - 1
    return Source(path, str(path), "CSV", None, sha, size, n, None, fields, True,
                  coord_fields=coords)


def iter_batches(src: Source, batch_size: int = 50_000) -> Iterator[Batch]:
    """The delivery in batches; a read that fails midway (a file cut short or damaged, e.g. a
    MapInfo .map or .dat truncated) is a SourceError naming the file, never a crash."""
    last = 0
    try:
        for batch in _batches(src, batch_size):
            last = int(batch.rows[-1]) if len(batch.rows) else last
            yield batch
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError,
            pyogrio.errors.GeometryError, pyogrio.errors.FieldError) as exc:
        raise SourceError(
            f"{src.label}: GDAL cannot read the file past row {last} "
            f"({str(exc).strip()}): it is damaged or cut short. Nothing was changed. Ask the "
            "department for a fresh, complete export (for MapInfo: every part, .tab .dat "
            ".map .id).") from exc


def _batches(src: Source, batch_size: int) -> Iterator[Batch]:
    if src.is_csv:
        yield from _iter_csv(src, batch_size)
        return
    if src.raw_text and src.driver != "ESRI Shapefile":
        yield from _iter_chunked(src, batch_size)  # Arrow reads only UTF-8 or Shapefile bytes
        return
    row = 1
    with pyogrio.open_arrow(src.gdal_path, layer=src.layer or None, batch_size=batch_size,
                            encoding="latin1" if src.raw_text else None,
                            use_pyarrow=True) as (meta, reader):
        geom_col = meta["geometry_name"] or "wkb_geometry"
        for batch in reader:
            names = batch.schema.names
            gname = geom_col if geom_col in names else next(
                (n for n in names if n in ("wkb_geometry", "geometry")), None)
            attrs = batch.drop_columns([gname]) if gname else batch
            frame = attrs.to_pandas(types_mapper=None)
            wkb = batch.column(gname).to_numpy(zero_copy_only=False) if gname else None
            geoms = shapely.from_wkb(wkb, on_invalid="ignore") if wkb is not None else \
                np.full(len(frame), None, dtype=object)
            rows = np.arange(row, row + len(frame))
            row += len(frame)
            del batch, attrs, wkb  # the Arrow buffers, not kept while the batch is used
            yield Batch(frame, geoms, None, rows)


def _iter_chunked(src: Source, batch_size: int) -> Iterator[Batch]:
    """Byte-preserving reads through the non-Arrow interface (MapInfo, DGN, DXF)."""
    row = 1
    while True:
        gdf = pyogrio.read_dataframe(src.gdal_path, layer=src.layer or None, encoding="latin1",
                                     skip_features=row - 1, max_features=batch_size)
        if gdf.empty:
            return
        frame = pd.DataFrame(gdf.drop(columns=gdf.geometry.name))
        yield Batch(frame, np.asarray(gdf.geometry.array, dtype=object), None,
                    np.arange(row, row + len(gdf)))
        row += len(gdf)
        if len(gdf) < batch_size:
            return


def _iter_csv(src: Source, batch_size: int) -> Iterator[Batch]:
    row = 1
    xf, yf = src.coord_fields
    for frame in pd.read_csv(src.path, dtype=str, encoding="latin1", chunksize=batch_size,
                             sep=_delimiter(src.path), keep_default_na=False):
        frame = frame.replace("", None)
        x = pd.to_numeric(frame[xf].str.replace(",", ".", regex=False), errors="coerce")
        y = pd.to_numeric(frame[yf].str.replace(",", ".", regex=False), errors="coerce")
        rows = np.arange(row, row + len(frame)) + 1  # +1: the header is line 1
        row += len(frame)
        yield Batch(frame.drop(columns=[xf, yf]).reset_index(drop=True), None,
                    (x.to_numpy(dtype="float64"), y.to_numpy(dtype="float64")), rows,
                    (frame[xf].to_numpy(dtype=object), frame[yf].to_numpy(dtype=object)))
