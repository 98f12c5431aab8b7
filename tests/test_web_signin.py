"""Staff sign-in on the web map (tests/web/signin.spec.mjs, headless Chromium) against a real
`gis serve` on the sample set and a small OIDC provider started here (tests/oidc_provider.py):
the public sees no restricted layer and no personal field; a staff member signed in by OIDC
(authorization code + PKCE) or with an API key does, and the tiles carry the credential."""

from __future__ import annotations

import json
import shutil
import subprocess

import httpx
import psycopg
import pytest

from gis.layerdef import load_layer_defs
from tests.conftest import ROOT, run_gis, serve
from tests.oidc_provider import Provider, s256
from tests.planning_fixtures import PARCEL_KEY

pytest_plugins = ["tests.planning_fixtures"]
SPEC = ROOT / "tests" / "web" / "signin.spec.mjs"
AUDIENCE, CLIENT = "spp-api", "spp-map"
OWNER = "Trần Thị Hoa Test"  # a personal value written into one parcel for this test
DEPARTMENT = "sxd"


def restricted_layer(site: str, key: str) -> str:
    """A restricted layer (from the layer files) the test department sees and the public not."""
    ids = {c["id"] for c in httpx.get(site + "/ogc/collections", headers={
        "Authorization": f"Bearer {key}"}).json()["collections"]}
    public = {c["id"] for c in httpx.get(site + "/ogc/collections").json()["collections"]}
    for lyr in sorted(load_layer_defs().values(), key=lambda x: x.id):
        if lyr.access.level == "restricted" and lyr.id in ids - public:
            return lyr.id
    raise AssertionError(f"no restricted layer loaded for {DEPARTMENT}: {sorted(ids)}")


@pytest.fixture(scope="module")
def provider():
    with Provider(AUDIENCE, CLIENT, {"department": DEPARTMENT,
                                     "spp_personal": ["cadastral_parcels.owner_name"]}) as p:
        yield p


@pytest.fixture(scope="module")
def parcel(planning_db):
    with psycopg.connect(planning_db, autocommit=True) as c:
        fid, old = c.execute("SELECT fid, owner_name FROM data.cadastral_parcels WHERE "
                             "commune_code = %s AND sheet_no = %s AND parcel_no = %s",
                             PARCEL_KEY).fetchone()
        c.execute("UPDATE data.cadastral_parcels SET owner_name = %s WHERE fid = %s", (OWNER, fid))
        yield fid
        c.execute("UPDATE data.cadastral_parcels SET owner_name = %s WHERE fid = %s", (old, fid))


@pytest.fixture(scope="module")
def site(planning_db, provider, session_dir):
    jwks = provider.write_jwks(session_dir / "signin_jwks.json")
    with serve(planning_db, session_dir / "signin_serve.log",
               SPP_DATA_DIR=str(session_dir / "planning"), SPP_AUTH_CACHE_S="0",
               SPP_OIDC_ISSUER=provider.issuer, SPP_OIDC_AUDIENCE=AUDIENCE,
               SPP_OIDC_JWKS_FILE=str(jwks), SPP_OIDC_CLIENT_ID=CLIENT) as root:
        yield root


def test_auth_config(site, provider, planning_server):
    doc = httpx.get(site + "/api/auth/config").json()
    assert doc == {"oidc": {"issuer": provider.issuer, "client_id": CLIENT,
                            "scopes": "openid profile"}, "api_key": True}
    # without a client id the map offers the API-key prompt only
    assert httpx.get(planning_server + "/api/auth/config").json()["oidc"] is None


def test_provider_refuses_a_wrong_pkce_verifier(provider):
    verifier = "v" * 50
    for sent, status in (("w" * 50, 400), (verifier, 200)):
        r = httpx.get(provider.issuer + "/authorize", params={
            "response_type": "code", "client_id": CLIENT, "redirect_uri": "http://127.0.0.1:1/",
            "state": "s", "code_challenge": s256(verifier), "code_challenge_method": "S256"})
        assert r.status_code == 302
        code = httpx.URL(r.headers["location"]).params["code"]
        t = httpx.post(provider.issuer + "/token", data={
            "grant_type": "authorization_code", "code": code, "client_id": CLIENT,
            "redirect_uri": "http://127.0.0.1:1/", "code_verifier": sent})
        assert t.status_code == status, t.text
    assert t.json()["access_token"].count(".") == 2


def test_signin_in_chromium(site, provider, parcel, planning_db):
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed (./spp setup installs it)")
    key = run_gis("keys", "create", "--name", "SXD map test", "--department", DEPARTMENT,
                  "--personal", "cadastral_parcels.owner_name",
                  env={"DATABASE_URL": planning_db}, check=True).stdout.strip().splitlines()[-1]
    layer = restricted_layer(site, key)
    before = len(provider.requests)
    proc = subprocess.run([node, str(SPEC), site, provider.issuer, key, layer, str(parcel), OWNER],
                          capture_output=True, text=True, timeout=300, cwd=ROOT)
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
    assert lines, f"no result from the browser test:\n{proc.stdout}\n{proc.stderr}"
    result = json.loads(lines[-1])
    assert proc.returncode == 0 and result["ok"], json.dumps(result, ensure_ascii=False,
                                                             indent=1) + proc.stderr
    seen = result["seen"]
    assert layer not in seen["public"]["tree"] and OWNER not in seen["public"]["panel"]
    for role in ("oidc", "key"):
        assert layer in seen[role]["tree"] and OWNER in seen[role]["panel"], role
        assert seen[role]["tiles"] > 0 and seen[role]["tilesWithout"] == 0, role
    # the browser went through the provider: authorize once, then a code exchanged with PKCE
    calls = provider.requests[before:]
    assert ("GET", "/authorize", 302) in calls and ("POST", "/token", 200) in calls
    assert ("POST", "/token", 400) not in calls  # the forged code never reached the provider
    for name in ("20-signin-public", "21-signin-oidc", "22-signin-key"):
        assert (ROOT / "tests" / "artifacts" / f"{name}.png").stat().st_size > 10_000
