"""Whose bucket a request draws from, against a real `gis serve`: X-Forwarded-For only from a
configured proxy, made-up credentials pay as anonymous requests on every route, a key's own
bucket runs out alone, and bad bearer tokens (any algorithm) are charged 401s with clean
messages. Each test speaks from its own loopback address, so each has its own address
bucket (the server listens on 127.0.0.1; Linux routes all of 127/8 to it)."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519

from tests.access_fixtures import AUDIENCE, ISSUER, make_key, serve

pytest_plugins = ["tests.access_fixtures"]
PROXY = "127.0.0.5"
BURST = 20  # SPP_RATE_IP_BURST below; refill 0.5/s: a run of 60 in under 12 s gets < 26


@pytest.fixture(scope="module")
def server(access_data, oidc, database_url, session_dir):
    log = session_dir / "rate_trust_serve.log"
    with serve(database_url, log, SPP_RATE_IP_PER_S="0.5", SPP_RATE_IP_BURST=str(BURST),
               SPP_RATE_KEY_PER_S="0.5", SPP_RATE_KEY_BURST="10",
               SPP_TRUSTED_PROXIES=f"192.0.2.7, {PROXY}/32",
               SPP_OIDC_ISSUER=ISSUER, SPP_OIDC_AUDIENCE=AUDIENCE,
               SPP_OIDC_JWKS_FILE=str(oidc["jwks"])) as base:
        yield base.removesuffix("/ogc")
    assert "Traceback" not in log.read_text()


def client(root: str, source: str) -> httpx.Client:
    return httpx.Client(base_url=root, timeout=30,
                        transport=httpx.HTTPTransport(local_address=source))


def limited(codes: list[int], allowed: int = 200) -> bool:
    """A run of 60 quick requests was held to about the address's burst."""
    return codes.count(allowed) <= BURST + 6 and codes.count(429) >= 30 and codes[-1] == 429


def test_forwarded_for_from_any_peer_is_ignored(server):
    with client(server, "127.0.0.2") as c:
        codes = [c.get("/ogc/conformance", headers={"X-Forwarded-For": f"203.0.113.{i}"})
                 .status_code for i in range(60)]
    assert limited(codes), codes


def test_forwarded_for_from_a_configured_proxy_names_the_client(server):
    with client(server, PROXY) as c:
        each_own = [c.get("/ogc/conformance", headers={"X-Forwarded-For": f"198.51.100.{i}"})
                    .status_code for i in range(60)]
        one = [c.get("/ogc/conformance", headers={"X-Forwarded-For": "198.51.100.200"})
               .status_code for _ in range(60)]
    assert each_own == [200] * 60  # 60 clients behind the proxy, each with a full bucket
    assert limited(one), one  # one client behind it is limited as itself


@pytest.mark.parametrize("path", ["/ogc/openapi", "/"])
def test_made_up_keys_pay_as_anonymous_on_routes_that_never_check_them(server, path):
    source = "127.0.0.3" if path == "/" else "127.0.0.6"
    with client(server, source) as c:
        codes = [c.get(path, headers={"X-API-Key": f"spp_{i:08x}_" + "x" * 43}).status_code
                 for i in range(60)]
    assert limited(codes), codes


def test_a_keys_own_bucket_runs_out_while_another_key_is_served(server):
    busy, calm = make_key("busy app", "sxd"), make_key("calm app", "sxd")
    with client(server, "127.0.0.7") as c:
        for key in (busy, calm):  # seen valid once: from now on each draws from its bucket
            assert c.get("/ogc/conformance", headers={"X-API-Key": key}).status_code == 200
        runs = [c.get("/ogc/conformance", headers={"X-API-Key": busy}) for _ in range(30)]
        other = c.get("/ogc/conformance", headers={"X-API-Key": calm})
    codes = [r.status_code for r in runs]
    assert 8 <= codes.count(200) <= 14 and codes[-1] == 429, codes
    assert int(runs[-1].headers["retry-after"]) >= 1
    assert runs[-1].json()["code"] == "TooManyRequests"
    assert other.status_code == 200


def _token(key, alg: str, kid: str | None = "k1") -> str:
    now = datetime.now(UTC)
    claims = {"iss": ISSUER, "aud": AUDIENCE, "sub": "mallory", "exp": now + timedelta(minutes=5)}
    return jwt.encode(claims, key, algorithm=alg, headers={"kid": kid} if kid else None)


def _pem(private) -> bytes:
    return private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                 serialization.NoEncryption())


def test_bad_tokens_of_every_algorithm_are_clean_charged_401s(server):
    es = _pem(ec.generate_private_key(ec.SECP256R1()))
    ed = _pem(ed25519.Ed25519PrivateKey.generate())
    odd_header = base64.urlsafe_b64encode(b'{"alg":"ES256","kid":["k1"]}').rstrip(b"=")
    tokens = [_token(es, "ES256"), _token(es, "ES256", kid=None), _token(ed, "EdDSA"),
              _token(ed, "EdDSA", kid="nope"),
              odd_header.decode() + "." + _token(es, "ES256").split(".", 1)[1]]
    with client(server, "127.0.0.4") as c:
        first = [c.get("/ogc/collections", headers={"Authorization": "Bearer " + t})
                 for t in tokens]
        for r in first:
            assert r.status_code == 401, (r.status_code, r.text)
            assert r.headers["www-authenticate"].startswith('Bearer realm="SPP Can Tho"')
            text = r.json()["description"] + r.headers["www-authenticate"]
            for leak in ("<", "object at", "PEM", "Expecting", "Error"):
                assert leak not in text, text
        codes = [c.get("/ogc/collections",
                       headers={"Authorization": "Bearer " + tokens[i % len(tokens)]})
                 .status_code
                 for i in range(60)]
    assert limited(codes, allowed=401), codes
