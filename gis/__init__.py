"""SPP Can Tho: core library and the `gis` command line."""

__version__ = "0.1.0"
