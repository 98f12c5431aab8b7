"""Raster layer definitions: ``kind: raster`` files in ``layers/`` (format: layers/README.md,
section "Raster layers"), one member of the ``gis.layerdef.LayerDefinition`` union.

A raster layer is one grid (one band of values, or RGB(A) imagery) stored as a Cloud-Optimised
GeoTIFF in WGS 84. Its definition says what a cell value means (unit, nodata, description) and
how it is drawn: ``classes`` (value ranges with a colour and a vi/en label, e.g. flood-depth
classes), a continuous ``ramp`` (colour stops, e.g. a DEM), or ``bands: 3``/``4`` (RGB/RGBA).
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator, model_validator

from gis.layerdef.base import LayerBase, Strict, Text, check_colour

Resampling = Literal["nearest", "bilinear", "cubic", "average", "mode"]
DataType = Literal["uint8", "uint16", "int16", "int32", "float32", "float64"]


def _colour(v: str) -> str:
    return check_colour(v).lower()


class RasterClass(Strict):
    """Cells with min <= value < max (no max: no upper bound) get this colour and label."""

    min: float | None = None
    max: float | None = None
    color: str
    label: Text

    @field_validator("color")
    @classmethod
    def _c(cls, v: str) -> str:
        return _colour(v)

    @model_validator(mode="after")
    def _bounds(self) -> RasterClass:
        if self.min is None and self.max is None:
            raise ValueError("a class needs min, max or both")
        if self.min is not None and self.max is not None and self.max <= self.min:
            raise ValueError(f"class max {self.max} must be greater than min {self.min}")
        return self

    def contains(self, value: float) -> bool:
        return ((self.min is None or value >= self.min)
                and (self.max is None or value < self.max))


class RampStop(Strict):
    value: float
    color: str
    label: Text | None = None  # legend text at this stop (optional)

    @field_validator("color")
    @classmethod
    def _c(cls, v: str) -> str:
        return _colour(v)


class RasterSource(Strict):
    format: str | None = None  # informative: GTiff, AAIGrid, JP2OpenJPEG...
    crs: str | None = None  # the usual CRS of deliveries (used only with --source-crs default)


class RasterTiles(Strict):
    min_zoom: int = Field(default=8, ge=0, le=22)
    max_zoom: int = Field(default=19, ge=0, le=24)


class RasterStyle(Strict):
    opacity: float = Field(default=0.75, ge=0, le=1)
    # cells <= this value are drawn transparent (e.g. 0 m flood depth = dry land)
    transparent_at_or_below: float | None = None


class RasterLayerDef(LayerBase):
    kind: Literal["raster"]
    bands: int = Field(default=1, ge=1, le=4)
    data_type: DataType | None = None  # stored type; default: float32, uint8 for RGB(A)
    units: str | None = None  # of the cell values (m, m a.s.l., ...), none for imagery
    value: Text | None = None  # what a cell value is, e.g. "flood depth above ground"
    nodata: float | None = None  # stored nodata; default: the source's, else -9999 / none
    resampling: Resampling = "bilinear"  # warping the delivery to WGS 84
    overview_resampling: Resampling = "average"
    classes: list[RasterClass] = []
    ramp: list[RampStop] = []
    thresholds: list[float] = []  # zonal statistics report the share of cells above each
    source: RasterSource = RasterSource()
    tiles: RasterTiles = RasterTiles()
    style: RasterStyle = RasterStyle()

    @model_validator(mode="after")
    def _consistent(self) -> RasterLayerDef:
        if self.planning and self.planning.role != "flood_depth":
            raise ValueError("a raster layer's planning role can only be 'flood_depth'")
        if self.bands == 1:
            if bool(self.classes) == bool(self.ramp):
                raise ValueError("a one-band raster needs either classes or a ramp (not both)")
            if self.units is None or self.value is None:
                raise ValueError("a one-band raster needs units and a value description")
        else:
            if self.bands == 2:
                raise ValueError("bands must be 1 (values) or 3/4 (RGB/RGBA imagery)")
            if self.classes or self.ramp:
                raise ValueError("RGB imagery takes no classes or ramp")
        if self.ramp and [s.value for s in self.ramp] != sorted({s.value for s in self.ramp}):
            raise ValueError("ramp stops must have strictly increasing values")
        for a, b in zip(self.classes, self.classes[1:], strict=False):
            if a.max is None or b.min is None or b.min < a.max:
                raise ValueError("classes must be ordered and must not overlap")
        if self.tiles.min_zoom > self.tiles.max_zoom:
            raise ValueError("tiles.min_zoom is greater than tiles.max_zoom")
        return self

    @property
    def render(self) -> str:
        return "classes" if self.classes else "ramp" if self.ramp else "rgb"

    @property
    def stored_dtype(self) -> str:
        return self.data_type or ("float32" if self.bands == 1 else "uint8")

    @property
    def zonal_thresholds(self) -> list[float]:
        """Thresholds of the 'share above' figures: the given ones, else the class bounds."""
        if self.thresholds:
            return sorted(self.thresholds)
        return sorted({c.min for c in self.classes if c.min is not None})
