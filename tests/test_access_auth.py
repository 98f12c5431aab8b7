"""Credentials and their failure modes (always 401 with WWW-Authenticate, never the public),
the key commands, the audit log and the read-only database role."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time

import httpx
import jwt
import psycopg
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.access_fixtures import make_key, web_url
from tests.conftest import run_gis

pytest_plugins = ["tests.access_fixtures"]
PIPES = "/collections/water_pipes/items"
WIDE = {"COLUMNS": "400"}  # rich tables on one line each


@pytest.fixture(scope="module")
def web(access_server):
    with httpx.Client(base_url=access_server, timeout=60) as c:
        yield c


def _refused(r: httpx.Response):
    assert r.status_code == 401, (r.status_code, r.text[:200])
    assert r.headers["www-authenticate"].startswith("Bearer realm=")
    assert r.json()["code"] == "Unauthorized"
    assert r.headers["cache-control"] == "no-store"


def key_id(conn, key: str) -> int:
    return conn.execute("SELECT id FROM spp.api_keys WHERE prefix = %s",
                        (key.split("_")[1],)).fetchone()["id"]


def test_revoked_key_is_refused(web, conn):
    key = make_key("short-lived app", "sxd")
    assert web.get(PIPES, headers={"X-API-Key": key}).status_code == 200
    out = run_gis("keys", "revoke", str(key_id(conn, key)), check=True)
    assert "revoked" in out.stdout
    for h in ({"X-API-Key": key}, {"Authorization": f"Bearer {key}"}):
        r = web.get(PIPES, headers=h)
        _refused(r)
        assert "revoked" in r.json()["description"]
        _refused(web.get("/collections/cadastral_parcels/items", headers=h))  # not public
    assert "revoked" in run_gis("keys", "list", env=WIDE, check=True).stdout


def test_keys_are_stored_hashed_and_listed_without_the_secret(conn, keys):
    rows = conn.execute("SELECT prefix, key_sha256 FROM spp.api_keys").fetchall()
    stored = " ".join(f"{r['prefix']} {r['key_sha256']}" for r in rows)
    listing = run_gis("keys", "list", env=WIDE, check=True).stdout
    for key in keys.values():
        secret = key.split("_", 2)[2]
        assert secret not in stored and secret not in listing
        assert key.split("_")[1] in stored


def test_expired_and_unknown_keys_are_refused(web, conn):
    key = make_key("expiring app", "sxd", "--expires", "2099-01-01")
    assert web.get(PIPES, headers={"X-API-Key": key}).status_code == 200
    conn.execute("UPDATE spp.api_keys SET expires_at = now() - interval '1 day' "
                 "WHERE prefix = %s", (key.split("_")[1],))
    r = web.get(PIPES, headers={"X-API-Key": key})
    _refused(r)
    assert "expired" in r.json()["description"]
    tampered = key[:-1] + ("A" if key[-1] != "A" else "B")
    _refused(web.get(PIPES, headers={"X-API-Key": tampered}))
    for bad in ("hello", "spp_zzzz_short", "Basic dXNlcjpwdw=="):
        _refused(web.get("/collections", headers={"Authorization": bad}))
        _refused(web.get("/collections", headers={"X-API-Key": bad}))
    _refused(web.get("/collections", headers={"Authorization": "Bearer"}))


def test_key_command_errors():
    r = run_gis("keys", "create", "--name", "x", "--department", "sxd", "--role", "root")
    assert r.returncode == 2 and "staff or admin" in r.stderr
    r = run_gis("keys", "create", "--name", "x", "--department", "sxd", "--personal",
                "cadastral_parcels.ward_name")
    assert r.returncode == 2 and "owner_name" in r.stderr
    r = run_gis("keys", "create", "--name", "x", "--department", "sxd", "--expires", "2001-01-01")
    assert r.returncode == 2 and "past" in r.stderr
    assert run_gis("keys", "revoke", "999999").returncode == 2


def test_oidc_tokens(web, oidc):
    tok = oidc["token"]
    ok = web.get(PIPES, headers={"Authorization": "Bearer " + tok(department="cantho_wasuco")})
    assert ok.status_code == 200
    # a person of another department is staff: internal yes, restricted no
    other = {"Authorization": "Bearer " + tok(department="stc")}
    assert web.get(PIPES, headers=other).status_code == 404
    assert web.get("/collections/telecom_lines/items", headers=other).status_code == 200
    # personal-field grant through the spp_personal claim, admin through roles
    granted = {"Authorization": "Bearer " + tok(spp_personal=["cadastral_parcels.owner_name"])}
    q = web.get("/collections/cadastral_parcels/queryables", headers=granted).json()
    assert "owner_name" in q["properties"] and "owner_id_no" not in q["properties"]
    admin = {"Authorization": "Bearer " + tok(roles=["admin"])}
    assert web.get(PIPES, headers=admin).status_code == 200
    # refused: expired, another signer, wrong audience/issuer, unknown kid, alg none / HS256
    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption())
    jwks_text = oidc["jwks"].read_text()
    bad = [tok(ttl=-120), tok(key=stranger), tok(aud="another-app"),
           tok(iss="https://evil.example"), tok(key=stranger, kid="k9"),
           jwt.encode({"iss": "https://id.cantho.gov.vn/realms/spp", "aud": "spp-api",
                       "sub": "x", "exp": int(time.time()) + 300}, None, algorithm="none"),
           _hs256({"iss": "https://id.cantho.gov.vn/realms/spp", "aud": "spp-api",
                   "sub": "x", "exp": int(time.time()) + 300}, jwks_text.encode()),
           "a.b.c"]
    for t in bad:
        r = web.get("/collections", headers={"Authorization": f"Bearer {t}"})
        _refused(r)


def _hs256(claims: dict, secret: bytes) -> str:
    """The key-confusion attack: HMAC-signed with the issuer's public key as the secret."""
    def b64(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    head = b64(json.dumps({"alg": "HS256", "typ": "JWT", "kid": "k1"}).encode())
    body = b64(json.dumps(claims).encode())
    sig = hmac.new(secret, f"{head}.{body}".encode(), hashlib.sha256).digest()
    return f"{head}.{body}.{b64(sig)}"


def _audit_rows(conn, prefix: str, since) -> list[dict]:
    for _ in range(50):  # rows are written in batches, shortly after the response
        rows = conn.execute("SELECT * FROM spp.audit_log WHERE actor LIKE %s AND at >= %s "
                            "ORDER BY id", (prefix + "%", since)).fetchall()
        if rows:
            time.sleep(0.5)  # let the batch finish
            return conn.execute("SELECT * FROM spp.audit_log WHERE actor LIKE %s AND at >= %s "
                                "ORDER BY id", (prefix + "%", since)).fetchall()
        time.sleep(0.2)
    return []


def test_audit_rows_for_restricted_reads_exports_and_personal_fields(web, conn, keys):
    since = conn.execute("SELECT now() AS t").fetchone()["t"]
    wasuco = make_key("audited operator", "cantho_wasuco")
    personal = make_key("audited registry", "snnmt", "--personal",
                        "cadastral_parcels.owner_name")
    wid, pid = key_id(conn, wasuco), key_id(conn, personal)
    assert web.get(PIPES, headers={"X-API-Key": wasuco}).status_code == 200
    assert web.get(PIPES + "?f=csv", headers={"X-API-Key": wasuco}).status_code == 200
    assert web.get("/collections/cadastral_parcels/items?limit=3",
                   headers={"X-API-Key": personal}).status_code == 200
    assert web.get("/collections/cadastral_parcels/items?f=gpkg&limit=3",
                   headers={"X-API-Key": personal}).status_code == 200
    # the public reading public data, and staff reading public non-personal data: no rows
    assert web.get("/collections/cadastral_parcels/items?limit=3").status_code == 200
    rows = _audit_rows(conn, f"key:{wid}:", since)
    assert {(r["action"], r["layer_id"]) for r in rows} == {("read", "water_pipes"),
                                                             ("export", "water_pipes")}
    assert all(r["client_addr"] == "127.0.0.1" and r["role"] == "staff" for r in rows)
    assert rows[0]["detail"]["access"] == "restricted"
    rows = _audit_rows(conn, f"key:{pid}:", since)
    assert {(r["action"], r["layer_id"], tuple(r["fields"])) for r in rows} == {
        ("read", "cadastral_parcels", ("owner_name",)),
        ("export", "cadastral_parcels", ("owner_name",))}
    n_public = conn.execute("SELECT count(*) AS n FROM spp.audit_log WHERE at >= %s AND "
                            "(actor = 'anonymous' OR role = 'public')", (since,)).fetchone()
    assert n_public["n"] == 0
    out = run_gis("audit", "--layer", "water_pipes", "--actor", f"key:{wid}:",
                  "--action", "export", "--since", since.date().isoformat(), env=WIDE,
                  check=True).stdout
    assert "export" in out and "water_pipes" in out and "read " not in out
    assert run_gis("audit", "--since", "yesterday").returncode == 2


def test_the_web_role_cannot_write(access_data, database_url):
    with psycopg.connect(web_url(database_url), autocommit=True) as c:
        assert c.execute("SELECT current_user").fetchone()[0] == "spp_web"
        assert c.execute("SELECT count(*) FROM data.cadastral_parcels").fetchone()[0] > 0
        table = c.execute("SELECT c.relname FROM pg_rewrite r JOIN pg_depend d ON "
                          "d.objid = r.oid JOIN pg_class c ON c.oid = d.refobjid WHERE "
                          "r.ev_class = 'data.cadastral_parcels'::regclass AND "
                          "d.refobjid <> r.ev_class AND c.relkind = 'r'").fetchone()[0]
        statements = [
            "INSERT INTO data.cadastral_parcels (commune_code) VALUES ('x')",
            "UPDATE data.cadastral_parcels SET owner_name = 'x'",
            "DELETE FROM data.cadastral_parcels",
            f'UPDATE data."{table}" SET owner_name = \'x\'',
            f'DELETE FROM data."{table}"',
            f'TRUNCATE data."{table}"',
            f'DROP TABLE data."{table}"',
            "DROP VIEW data.cadastral_parcels",
            "CREATE TABLE data.evil (x int)",
            "CREATE TABLE spp.evil (x int)",
            "CREATE TABLE public.evil (x int)",
            "UPDATE spp.layers SET access_level = 'public'",
            "UPDATE spp.api_keys SET role = 'admin'",
            "INSERT INTO spp.api_keys (name, prefix, key_sha256, department, role) "
            "VALUES ('x', 'x', 'x', 'x', 'admin')",
            "DELETE FROM spp.audit_log",
            "UPDATE spp.audit_log SET actor = 'x'",
            "SELECT created_by FROM spp.api_keys",
        ]
        for stmt in statements:
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                c.execute(stmt)
        c.execute("INSERT INTO spp.audit_log (actor, action) VALUES ('test', 'probe')")
