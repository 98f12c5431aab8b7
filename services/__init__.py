"""Web services of SPP Cần Thơ (FastAPI): OGC API - Features under /ogc."""
