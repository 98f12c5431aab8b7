"""Fixtures of the access-control tests: the OGC test layers plus an internal layer, API keys
of several departments (made with `gis keys create`), an OIDC issuer key pair, and real
`gis serve` processes connecting as the read-only role spp_web."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import time
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit, urlunsplit

import geopandas as gpd
import httpx
import jwt
import pytest
import shapely
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.builders import write
from tests.conftest import GIS, ROOT, run_gis

pytest_plugins = ["tests.ogc_fixtures"]

ISSUER = "https://id.cantho.gov.vn/realms/spp"
AUDIENCE = "spp-api"
TELECOM_SECRET = "VNPT-TUYEN-BI-MAT"  # a value of the internal layer
PIPE_SECRET = "ONG-1"  # a value of the restricted layer


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def web_url(database_url: str) -> str:
    parts = urlsplit(database_url)
    return urlunsplit(parts._replace(netloc="spp_web@" + parts.netloc.rsplit("@", 1)[-1]))


@contextmanager
def serve(database_url: str, log_path, **settings: str):
    """A real `gis serve` on a free loopback port; yields its /ogc base URL."""
    port = free_port()
    env = {**os.environ, "DATABASE_URL": database_url,
           "SPP_WEB_DATABASE_URL": web_url(database_url), **settings}
    with open(log_path, "wb") as log:
        proc = subprocess.Popen([*GIS, "serve", "--host", "127.0.0.1", "--port", str(port)],
                                cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        base = f"http://127.0.0.1:{port}/ogc"
        deadline = time.monotonic() + 60
        try:
            while True:
                if proc.poll() is not None:
                    raise AssertionError("gis serve exited: " + log_path.read_text())
                try:
                    httpx.get(base + "/conformance", timeout=2)  # any answer: it is up
                    break
                except httpx.HTTPError:
                    pass
                if time.monotonic() > deadline:
                    raise AssertionError("gis serve did not answer within 60 s")
                time.sleep(0.2)
            yield base
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()


def make_key(name: str, department: str, *extra: str) -> str:
    proc = run_gis("keys", "create", "--name", name, "--department", department, *extra,
                   check=True)
    return proc.stdout.strip().splitlines()[-1]


@pytest.fixture(scope="session")
def access_data(ogc_data, session_dir):
    """ogc_data plus telecom_lines (internal)."""
    folder = session_dir / "access_data"
    folder.mkdir(mode=0o755, exist_ok=True)
    lines = gpd.GeoDataFrame(
        {"MaTuyen": [TELECOM_SECRET, "VT-2"], "DoanhNghiep": ["VNPT", "Viettel"]},
        geometry=[shapely.LineString([(105.78, 10.03), (105.781, 10.031)]),
                  shapely.LineString([(105.77, 10.02), (105.771, 10.021)])], crs="OGC:CRS84")
    run_gis("load", str(write(lines, folder / "cap.geojson")), "--layer", "telecom_lines",
            "--force", check=True)
    return ogc_data


@pytest.fixture(scope="session")
def oidc(session_dir):
    """An issuer key pair: the JWKS file the service trusts and a token factory."""
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(private.public_key()))
    jwk.update(kid="k1", use="sig", alg="RS256")
    path = session_dir / "jwks.json"
    path.write_text(json.dumps({"keys": [jwk]}))
    pem = private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())

    def token(sub="an.nguyen", key=pem, kid="k1", ttl=300, **claims) -> str:
        now = datetime.now(UTC)
        body = {"iss": ISSUER, "aud": AUDIENCE, "sub": sub, "preferred_username": sub,
                "iat": now, "exp": now + timedelta(seconds=ttl), **claims}
        return jwt.encode(body, key, algorithm="RS256", headers={"kid": kid})

    return {"jwks": path, "token": token}


@pytest.fixture(scope="session")
def keys(access_data):
    """API keys (made once a session) by principal label."""
    return {
        "sxd": make_key("SXD planning GIS", "sxd"),
        "wasuco": make_key("Cấp nước Cần Thơ", "cantho_wasuco"),
        "other": make_key("Sở Tài chính", "stc"),
        "personal": make_key("VPĐK đất đai", "snnmt", "--personal",
                             "cadastral_parcels.owner_name", "--personal",
                             "cadastral_parcels.owner_id_no"),
        "admin": make_key("GIS admin", "sxd", "--role", "admin"),
    }


@pytest.fixture(scope="session")
def access_server(access_data, keys, oidc, database_url, session_dir):
    with serve(database_url, session_dir / "access_serve.log", SPP_AUTH_CACHE_S="0",
               SPP_OIDC_ISSUER=ISSUER, SPP_OIDC_AUDIENCE=AUDIENCE,
               SPP_OIDC_JWKS_FILE=str(oidc["jwks"]), SPP_AUDIT_FLUSH_S="0.2") as base:
        yield base
