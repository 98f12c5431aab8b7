"""Who is calling: API keys (``Authorization: Bearer spp_…`` or ``X-API-Key``) and OIDC bearer
JWTs, turned into a ``services.access.Principal``.

No credential = the public. A credential that is malformed, unknown, expired, revoked or
signed by anybody but the configured issuer is refused with 401 and ``WWW-Authenticate``;
it never falls back to the public. Resolved keys (and refusals) are remembered for
``SPP_AUTH_CACHE_S`` seconds so a key costs one lookup, not one a request.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache

import jwt
from fastapi import Request

from gis import keys
from gis.settings import get_settings
from services.access import PUBLIC, Principal
from services.ogc.errors import OGCError

REALM = "SPP Can Tho"


class Unauthenticated(OGCError):
    """401: the credential was presented but is not valid. Rendered with WWW-Authenticate."""

    status = 401
    code = "Unauthorized"

    def __init__(self, description: str, error: str = "invalid_token"):
        super().__init__(description)
        self.error = error

    @property
    def challenge(self) -> str:
        desc = self.description.replace('"', "'")
        return f'Bearer realm="{REALM}", error="{self.error}", error_description="{desc}"'

    @property
    def headers(self) -> dict[str, str]:
        return {"WWW-Authenticate": self.challenge}


@dataclass
class _Cached:
    at: float
    principal: Principal | None
    error: str | None
    expires_at: datetime | None


_cache: dict[str, _Cached] = {}
_CACHE_MAX = 10_000

# Credentials seen valid lately (sha256 → monotonic deadline). Rate limits let only these draw
# from a credential's own rate bucket; any other credential, on any route, draws from its
# address's bucket, so made-up keys cost what anonymous requests cost. Not an access
# decision: every route that needs a principal still resolves the credential.
_valid: dict[str, float] = {}
_VALID_S = 3600.0


def credential_hash(cred: str) -> str:
    return hashlib.sha256(cred.encode()).hexdigest()


def presented(authorization: str | None, api_key: str | None) -> str | None:
    """The credential the rate limiter buckets by (never raises; ``credential`` judges it)."""
    if api_key and api_key.strip():
        return api_key.strip()
    if authorization and authorization.strip():
        scheme, _, value = authorization.strip().partition(" ")
        return value.strip() if scheme.lower() == "bearer" and value.strip() else authorization
    return None


def known_valid(h: str) -> bool:
    until = _valid.get(h)
    return until is not None and time.monotonic() < until


def _mark(h: str, valid: bool, seconds: float = _VALID_S) -> None:
    if not valid:
        _valid.pop(h, None)
        return
    if len(_valid) >= _CACHE_MAX:
        now = time.monotonic()
        for k in [k for k, t in _valid.items() if t <= now] or list(_valid):
            del _valid[k]
    _valid[h] = time.monotonic() + max(0.0, min(seconds, _VALID_S))


def credential(request: Request) -> str | None:
    """The presented credential (API key or JWT), or None; 401 for unusable headers."""
    auth = request.headers.get("authorization")
    api_key = request.headers.get("x-api-key")
    bearer = None
    if auth is not None:
        scheme, _, value = auth.strip().partition(" ")
        if scheme.lower() != "bearer" or not value.strip():
            raise Unauthenticated("use 'Authorization: Bearer <API key or token>'",
                                  "invalid_request")
        bearer = value.strip()
    if api_key is not None:
        api_key = api_key.strip()
        if not api_key:
            raise Unauthenticated("X-API-Key is empty", "invalid_request")
        if bearer is not None and bearer != api_key:
            raise Unauthenticated("two different credentials (Authorization and X-API-Key)",
                                  "invalid_request")
    return bearer or api_key


async def resolve(request: Request) -> Principal:
    cred = credential(request)
    if cred is None:
        return PUBLIC
    h = credential_hash(cred)
    try:
        if keys.split_key(cred) is not None:
            who, until = await _api_key(request, cred)
        elif cred.count(".") == 2:
            who, until = _jwt(cred)
        else:
            raise Unauthenticated("not an API key of this service nor a JSON Web Token")
    except Unauthenticated:
        _mark(h, False)
        raise
    _mark(h, True, until - time.time() if until is not None else _VALID_S)
    return who


async def _api_key(request: Request, key: str) -> tuple[Principal, float | None]:
    """The key's principal and its expiry (epoch seconds) if it has one."""
    ttl = get_settings().auth_cache_s
    h = hashlib.sha256(key.encode()).hexdigest()
    now = time.monotonic()
    hit = _cache.get(h)
    if hit is None or now - hit.at > ttl:
        hit = await _lookup(request, key)
        if ttl > 0:
            if len(_cache) >= _CACHE_MAX:
                _cache.clear()
            _cache[h] = hit
    if hit.error:
        raise Unauthenticated(hit.error)
    if hit.expires_at is not None and hit.expires_at <= datetime.now(UTC):
        raise Unauthenticated("the API key has expired")
    return hit.principal, hit.expires_at.timestamp() if hit.expires_at is not None else None


async def _lookup(request: Request, key: str) -> _Cached:
    prefix = keys.split_key(key)
    async with request.app.state.pool.connection() as conn:
        cur = await conn.execute(
            "SELECT id, name, prefix, key_sha256, department, role, personal_fields, "
            "expires_at, revoked_at FROM spp.api_keys WHERE prefix = %s", (prefix,))
        row = await cur.fetchone()
    now = time.monotonic()
    # compare even when no row exists, so timing does not tell whether the prefix exists
    ok = keys.matches(key, row["key_sha256"] if row else "0" * 64) and row is not None
    if not ok:
        return _Cached(now, None, "unknown API key", None)
    if row["revoked_at"] is not None:
        return _Cached(now, None, "the API key has been revoked", None)
    who = Principal(role=row["role"], departments=frozenset({row["department"]}),
                    personal_fields=frozenset(row["personal_fields"] or ()),
                    name=f"key:{row['id']}:{row['name']}")
    return _Cached(now, who, None, row["expires_at"])


# -- OIDC JWTs ---------------------------------------------------------------------------
@dataclass(frozen=True)
class _Issuer:
    issuer: str
    audience: str | None
    by_kid: dict[str, object]
    anonymous: list[object]  # keys without a kid (PEM), tried in turn
    algorithms: list[str]
    leeway: int


@lru_cache(maxsize=1)
def _issuer() -> _Issuer | None:
    s = get_settings()
    if not s.oidc_issuer:
        return None
    by_kid: dict[str, object] = {}
    anonymous: list[object] = []
    if s.oidc_jwks_file:
        jwks = jwt.PyJWKSet.from_dict(json.loads(s.oidc_jwks_file.read_text()))
        for k in jwks.keys:
            if k.key_id:
                by_kid[k.key_id] = k.key
            else:
                anonymous.append(k.key)
    if s.oidc_public_keys_file:
        from cryptography.hazmat.primitives.serialization import load_pem_public_key

        text = s.oidc_public_keys_file.read_text()
        end = "-----END PUBLIC KEY-----"
        for block in text.split(end)[:-1]:
            anonymous.append(load_pem_public_key((block.strip() + "\n" + end + "\n").encode()))
    algs = [a.strip() for a in s.oidc_algorithms.split(",") if a.strip()]
    algs = [a for a in algs if not a.startswith("HS") and a != "none"]  # public keys only
    return _Issuer(s.oidc_issuer, s.oidc_audience, by_kid, anonymous, algs, s.oidc_leeway_s)


def _jwt(token: str) -> tuple[Principal, float]:
    """The token's principal and its expiry (epoch seconds). Every failure is a 401 with a
    fixed message: library exception texts (reprs of keys, parser details) never leave."""
    iss = _issuer()
    if iss is None:
        raise Unauthenticated("bearer tokens are not accepted: no OIDC issuer is configured")
    try:
        header = jwt.get_unverified_header(token)
    except Exception:
        raise Unauthenticated("malformed token") from None
    alg = header.get("alg")
    if alg not in iss.algorithms:
        shown = alg if isinstance(alg, str) and alg.isalnum() and len(alg) <= 10 else "?"
        raise Unauthenticated(f"the token's algorithm ({shown}) is not accepted; accepted: "
                              + ", ".join(iss.algorithms))
    kid = header.get("kid")
    known = isinstance(kid, str) and kid in iss.by_kid
    candidates = [iss.by_kid[kid]] if known else [*iss.anonymous, *iss.by_kid.values()]
    if not candidates:
        raise Unauthenticated("no key of the configured issuer verifies this token")
    claims = None
    for key in candidates:
        try:
            claims = jwt.decode(token, key, algorithms=[alg], audience=iss.audience,
                                issuer=iss.issuer, leeway=iss.leeway,
                                options={"require": ["exp", "iss", "sub"],
                                         "verify_aud": iss.audience is not None})
            break
        except jwt.InvalidSignatureError:
            continue
        except jwt.PyJWTError as exc:
            if _signature_checked(exc):
                raise Unauthenticated(_JWT_MESSAGES.get(type(exc), "invalid token")) from None
            continue  # a key of another type or shape than the algorithm's: try the next
        except Exception:  # the library's own errors for a key it cannot use with this alg
            continue
    if claims is None:
        raise Unauthenticated("the token's signature does not verify with the issuer's keys")
    if not isinstance(claims.get("exp"), int | float):
        raise Unauthenticated("invalid token")
    return principal_from_claims(claims), float(claims["exp"])


_JWT_MESSAGES = {
    jwt.ExpiredSignatureError: "the token has expired",
    jwt.ImmatureSignatureError: "the token is not valid yet",
    jwt.InvalidAudienceError: "the token is meant for another audience",
    jwt.InvalidIssuerError: "the token comes from another issuer",
    jwt.MissingRequiredClaimError: "the token lacks a required claim (exp, iss, sub)",
    jwt.InvalidIssuedAtError: "the token's issue time (iat) is invalid",
    jwt.DecodeError: "malformed token",
}


def _signature_checked(exc: Exception) -> bool:
    """Errors that do not depend on the key (a malformed token; claims, which PyJWT checks
    only after the signature verified): trying another key cannot help."""
    return isinstance(exc, jwt.InvalidTokenError) and not isinstance(
        exc, jwt.InvalidSignatureError | jwt.InvalidAlgorithmError | jwt.InvalidKeyError)


def _as_list(value) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [v for v in value.replace(",", " ").split() if v]
    if isinstance(value, list | tuple):
        return [str(v) for v in value]
    return []


def principal_from_claims(claims: dict) -> Principal:
    """Map an ID/access token's claims: roles containing admin → admin, else staff."""
    s = get_settings()
    roles = {r.lower() for r in _as_list(claims.get(s.oidc_roles_claim))}
    if not roles and isinstance(claims.get("realm_access"), dict):  # Keycloak's spelling
        roles = {r.lower() for r in _as_list(claims["realm_access"].get("roles"))}
    role = "admin" if roles & {"admin", "spp_admin", "spp-admin"} else "staff"
    departments = frozenset(d.lower() for d in _as_list(claims.get(s.oidc_department_claim)))
    personal = frozenset(_as_list(claims.get(s.oidc_personal_claim)))
    name = str(claims.get(s.oidc_name_claim) or claims.get("email") or claims["sub"])
    return Principal(role=role, departments=departments, personal_fields=personal,
                     name=f"oidc:{name}")
