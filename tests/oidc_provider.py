"""A small OIDC provider the tests start themselves: discovery, JWKS, an authorize endpoint that
approves one test user at once, and a token endpoint that checks the PKCE verifier (S256) and
issues RS256 access tokens (keys made at start). Cross-origin calls are allowed (the map calls
discovery and token from the browser). Every request is recorded in `requests`."""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa


def s256(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


class Provider:
    def __init__(self, audience: str, client_id: str, claims: dict, ttl: int = 300):
        self.audience, self.client_id, self.claims, self.ttl = audience, client_id, claims, ttl
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self.key.public_key()))
        jwk.update(kid="test-1", use="sig", alg="RS256")
        self.jwks = {"keys": [jwk]}
        self.codes: dict[str, dict] = {}
        self.refresh: dict[str, str] = {}
        self.requests: list[tuple[str, str, int]] = []  # method, path, status
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.issuer = f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def write_jwks(self, path: Path) -> Path:
        path.write_text(json.dumps(self.jwks))
        return path

    def __enter__(self):
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()

    def access_token(self, sub: str) -> str:
        now = int(time.time())
        pem = self.key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                     serialization.NoEncryption())
        body = {"iss": self.issuer, "aud": self.audience, "sub": sub, "preferred_username": sub,
                "iat": now, "exp": now + self.ttl, **self.claims}
        return jwt.encode(body, pem, algorithm="RS256", headers={"kid": "test-1"})

    # -- the endpoints ---------------------------------------------------------------------------
    def authorize(self, q: dict) -> tuple[int, dict, dict | None]:
        redirect = q.get("redirect_uri", "")
        if q.get("client_id") != self.client_id or not redirect.startswith("http://127.0.0.1"):
            return 400, {}, {"error": "invalid_request", "error_description": "unknown client"}
        if q.get("response_type") != "code" or q.get("code_challenge_method") != "S256" \
                or not q.get("code_challenge"):
            return 400, {}, {"error": "invalid_request", "error_description": "PKCE S256 required"}
        code = secrets.token_urlsafe(24)
        self.codes[code] = {"challenge": q["code_challenge"], "redirect_uri": redirect,
                            "sub": "lan.tran"}  # the test user, approved at once
        sep = "&" if "?" in redirect else "?"
        back = redirect + sep + urlencode({"code": code, "state": q.get("state", "")})
        return 302, {"Location": back}, None

    def token(self, form: dict) -> tuple[int, dict]:
        if form.get("client_id") != self.client_id:
            return 401, {"error": "invalid_client"}
        if form.get("grant_type") == "authorization_code":
            grant = self.codes.pop(form.get("code", ""), None)  # a code is used once
            if grant is None or grant["redirect_uri"] != form.get("redirect_uri"):
                return 400, {"error": "invalid_grant", "error_description": "unknown code"}
            if s256(form.get("code_verifier", "")) != grant["challenge"]:
                return 400, {"error": "invalid_grant",
                             "error_description": "PKCE verifier mismatch"}
            sub = grant["sub"]
        elif form.get("grant_type") == "refresh_token":
            sub = self.refresh.pop(form.get("refresh_token", ""), None)
            if sub is None:
                return 400, {"error": "invalid_grant"}
        else:
            return 400, {"error": "unsupported_grant_type"}
        refresh = secrets.token_urlsafe(24)
        self.refresh[refresh] = sub
        return 200, {"access_token": self.access_token(sub), "token_type": "Bearer",
                     "expires_in": self.ttl, "refresh_token": refresh}

    def _handler(self):
        provider = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _send(self, status: int, body: dict | None, headers: dict | None = None):
                provider.requests.append((self.command, self.path.split("?")[0], status))
                data = json.dumps(body).encode() if body is not None else b""
                self.send_response(status)
                self.send_header("Access-Control-Allow-Origin", "*")
                self.send_header("Cache-Control", "no-store")
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                if body is not None:
                    self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_OPTIONS(self):
                self._send(204, None, {"Access-Control-Allow-Methods": "GET, POST",
                                       "Access-Control-Allow-Headers": "Content-Type, Accept"})

            def do_GET(self):
                url = urlsplit(self.path)
                q = {k: v[0] for k, v in parse_qs(url.query).items()}
                if url.path == "/.well-known/openid-configuration":
                    i = provider.issuer
                    self._send(200, {"issuer": i, "authorization_endpoint": i + "/authorize",
                                     "token_endpoint": i + "/token", "jwks_uri": i + "/jwks",
                                     "response_types_supported": ["code"],
                                     "code_challenge_methods_supported": ["S256"]})
                elif url.path == "/jwks":
                    self._send(200, provider.jwks)
                elif url.path == "/authorize":
                    status, headers, body = provider.authorize(q)
                    self._send(status, body, headers)
                else:
                    self._send(404, {"error": "not_found"})

            def do_POST(self):
                n = min(int(self.headers.get("Content-Length") or 0), 65536)
                form = {k: v[0] for k, v in parse_qs(self.rfile.read(n).decode()).items()}
                if urlsplit(self.path).path == "/token":
                    self._send(*provider.token(form))
                else:
                    self._send(404, {"error": "not_found"})

        return Handler
