"""Synthetic but realistic Cần Thơ delivery set (``gis sample``): parcels in two VN-2000 zones
with legacy font encodings, a planning GeoPackage, utility networks, digital addresses and
administrative units, in the formats departments really send. See generate.write_sample."""

from gis.sample.generate import SAMPLE_VERSION, write_sample

__all__ = ["SAMPLE_VERSION", "write_sample"]
