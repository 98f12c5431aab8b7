"""Synthetic but realistic Cần Thơ delivery set (``gis sample``)."""
