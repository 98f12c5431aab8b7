"""Hostile input generated from the service's own OpenAPI document: schemathesis against a
real `gis serve`, with a fixed seed and a fixed number of cases per operation (no time budget:
a slow machine runs the same cases, only later). Strings may hold NUL and any Unicode, inputs
are unique, and the example database is off so one run does not feed the next. No 5xx, and
every documented response matches its schema."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytest_plugins = ["tests.access_fixtures", "tests.raster_fixtures"]
SEED = 20250701
CASES = int(os.environ.get("SPP_SCHEMATHESIS_CASES", "150"))


@pytest.fixture(scope="module")
def fuzz_server(access_data, raster_data, database_url, session_dir):
    from tests.access_fixtures import serve

    with serve(database_url, session_dir / "fuzz_serve.log", SPP_RATE_IP_PER_S="0",
               SPP_RATE_KEY_PER_S="0", SPP_REQUEST_TIMEOUT_S="20") as base:
        yield base


def _schemathesis() -> list[str]:
    exe = Path(sys.executable).with_name("schemathesis")
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "schemathesis.cli"]


def test_openapi_fuzz_finds_no_server_error(fuzz_server, session_dir, access_data):
    """Path parameters are pinned to real resources (else nearly every case is a 404 on a
    made-up collection id); query parameters are generated, valid and invalid."""
    root = fuzz_server.removesuffix("/ogc")
    fid = access_data["fid"]
    config = session_dir / "schemathesis.toml"
    config.write_text(f"""
[parameters]
"path.collectionId" = "cadastral_parcels"
"path.featureId" = "{fid}"
"path.fid" = "{fid}"
"path.tileMatrixSetId" = "WebMercatorQuad"
"path.styleId" = "cadastral_parcels"
"path.layer_id" = "flood_depth_100y"
"path.tms" = "WebMercatorQuad"
"path.sid" = "1"
"path.datasetId" = "cadastral_parcels"
"query.layer" = "cadastral_parcels"
""")
    # one worker: with threads, hypothesis describes filter lambdas by parsing their source
    # with ast concurrently, which CPython 3.11 aborts now and then ("AST constructor
    # recursion depth mismatch", a Runtime Error of the run, not of the server)
    cmd = [*_schemathesis(), "--config-file", str(config), "run", f"{fuzz_server}/openapi",
           "--url", root, "--checks", "not_a_server_error,response_schema_conformance",
           "--mode", "all", "--max-examples", str(CASES), "--seed", str(SEED),
           "--phases", "examples,coverage,fuzzing", "--workers", "1",
           "--generation-unique-inputs", "--generation-allow-x00", "true",
           "--generation-codec", "utf-8", "--generation-database", "none",
           "--request-timeout", "30", "--no-color",
           # the edit routes only answer 401 without a credential: tests/test_edits_api.py
           # fuzzes them with one (and one worker: its header and path mutations from four
           # threads at once crash CPython 3.11's ast module inside hypothesis)
           "--exclude-tag", "Edit"]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600,
                          cwd=session_dir,  # its cache folder stays out of the repository
                          env={**os.environ, "NO_COLOR": "1"})
    out = proc.stdout + proc.stderr
    print(out[-2500:])  # the summary (cases per phase), shown with pytest -s
    assert proc.returncode == 0, out[-8000:]
    assert " passed" in out, out[-3000:]
