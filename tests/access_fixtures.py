"""Fixtures of the access-control tests: the OGC test layers plus an internal layer, API keys
of several departments (made with `gis keys create`), an OIDC issuer key pair, and real
`gis serve` processes connecting as the read-only role spp_web."""

from __future__ import annotations

import json
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import geopandas as gpd
import jwt
import pytest
import shapely
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.builders import write
from tests.conftest import run_gis
from tests.conftest import serve as serve_root
from tests.conftest import web_role_url as web_url  # noqa: F401 - used by other modules

pytest_plugins = ["tests.ogc_fixtures"]

ISSUER = "https://id.cantho.gov.vn/realms/spp"
AUDIENCE = "spp-api"
TELECOM_SECRET = "VNPT-TUYEN-BI-MAT"  # a value of the internal layer
PIPE_SECRET = "ONG-1"  # a value of the restricted layer


@contextmanager
def serve(database_url: str, log_path, **settings: str):
    """A real `gis serve` as the read-only web role; yields its /ogc base URL."""
    with serve_root(database_url, log_path, **settings) as root:
        yield root + "/ogc"


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
