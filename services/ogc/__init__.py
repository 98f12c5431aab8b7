"""OGC API - Features (Parts 1 Core, 2 CRS, 3 Filtering) over the layers in PostGIS."""
