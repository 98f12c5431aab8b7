"""Platform settings, read from environment variables (documented in the README)."""

import os
from functools import lru_cache
from pathlib import Path

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent
# A source checkout (or an editable install) reads layers/ and styles/ from the tree and keeps
# its data in var/; an installed package reads the copies it carries (setup.py) and keeps its
# data in the user's data folder, never inside the installation.
FROM_SOURCE = (PROJECT_ROOT / "pyproject.toml").is_file()
BUNDLED = Path(__file__).resolve().parent / "bundled"


def _default_data_dir() -> Path:
    if FROM_SOURCE:
        return PROJECT_ROOT / "var"
    base = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return Path(base) / "spp-cantho"


def _default_dir(name: str) -> Path:
    return PROJECT_ROOT / name if FROM_SOURCE else BUNDLED / name


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SPP_", extra="ignore")

    # An external PostgreSQL/PostGIS server; when unset the embedded cluster is used.
    database_url: str | None = Field(
        default=None, validation_alias=AliasChoices("DATABASE_URL", "SPP_DATABASE_URL")
    )
    # Where the embedded cluster, raster store and tile cache live.
    data_dir: Path = Field(default_factory=_default_data_dir)
    # Port of the embedded cluster; 0 picks a free one on first start.
    pg_port: int = 0
    # PostgreSQL bin directory for the embedded cluster (default: newest one with PostGIS).
    pg_bindir: Path | None = None
    layers_dir: Path = Field(default_factory=lambda: _default_dir("layers"))
    styles_dir: Path = Field(default_factory=lambda: _default_dir("styles"))
    host: str = "127.0.0.1"
    port: int = 8000
    # Recorded as the operator of loads and rollbacks (defaults to the OS user).
    operator: str | None = None
    # How many old versions of a layer stay restorable by `gis layer rollback`.
    keep_versions: int = 5
    # PostgreSQL statement timeout for web requests, milliseconds.
    statement_timeout_ms: int = 15000
    # An outside base map the city configures for the web map's switcher: a MapLibre style
    # URL or a raster tile URL template ({z}/{x}/{y}). Unset: no such option, no request.
    basemap_url: str | None = Field(default=None, pattern=r"^https?://[^\s\"'<>]+$")

    # -- access control, audit and abuse limits (services/auth, limits, ratelimit, audit) --
    # Database URL of the web services' read-only role (spp_web). Unset: the embedded
    # cluster's URL with user spp_web; with DATABASE_URL set, DATABASE_URL itself (a warning).
    web_database_url: str | None = None
    # OIDC bearer JWTs of people: expected issuer and audience, and the issuer's public keys
    # as a JWKS file and/or a PEM file (one or more public keys); no network fetch.
    oidc_issuer: str | None = None
    oidc_audience: str | None = None
    oidc_jwks_file: Path | None = None
    oidc_public_keys_file: Path | None = None
    oidc_algorithms: str = "RS256,RS384,RS512,PS256,ES256,ES384,EdDSA"
    oidc_leeway_s: int = 30
    # Claims mapped to the principal: department code(s), roles (admin or staff), personal
    # fields granted ("layer.field"), display name.
    oidc_department_claim: str = "department"
    oidc_roles_claim: str = "roles"
    oidc_personal_claim: str = "spp_personal"
    oidc_name_claim: str = "preferred_username"
    # Seconds a resolved API key (or a rejected credential) is remembered; a revoked key is
    # refused at the latest this long after `gis keys revoke`.
    auth_cache_s: float = 5.0
    # Token buckets: anonymous requests per client address, requests with a credential per
    # credential; rate in requests per second, burst = bucket size. 0 disables a limit.
    # Reverse proxies whose X-Forwarded-For / X-Forwarded-Proto are believed: comma-separated
    # addresses or CIDRs. Empty: none; the client address is the TCP peer.
    trusted_proxies: str = ""
    rate_ip_per_s: float = 50.0
    rate_ip_burst: int = 300
    rate_key_per_s: float = 100.0
    rate_key_burst: int = 600
    # Request limits: URL (path + query) length, body size, and the time to the first byte of
    # the response (streamed downloads continue after it, each query bounded by the statement
    # timeout).
    max_url_length: int = 8192
    max_body_bytes: int = 1_000_000
    request_timeout_s: float = 30.0
    # Streaming replicas for the web reads (comma-separated URLs of the read-only role on
    # each); the primary (SPP_WEB_DATABASE_URL) serves when none can.
    read_database_urls: str | None = None
    # `gis serve` applies pending migrations at start (as the owner role, DATABASE_URL). Set
    # false where a separate `gis db migrate` step does it and the web tier holds only the
    # read-only role's URL (SPP_WEB_DATABASE_URL); /ready then reports a schema not current.
    migrate_on_start: bool = True
    # `gis db migrate` sets this as the password of the read-only web role spp_web.
    web_db_password: str | None = None
    # Raster versions and the tile cache in S3-compatible object storage (s3://bucket/prefix)
    # instead of the data folder, so several machines share them; the endpoint of a server
    # other than AWS. Credentials: the standard AWS_* variables.
    object_store: str | None = None
    s3_endpoint_url: str | None = None
    # One JSON log line per request (method, path, status, time, request id) on stderr.
    access_log: bool = True
    # Connecting to the database from the web services gives up after this many seconds; a
    # lost database is then answered with 503 at once and re-checked every second.
    db_connect_timeout_s: float = 2.0
    # Audit rows are written in batches by a background task at most this often, seconds.
    audit_flush_s: float = 1.0
    # Key material of the paging cursors (services/ogc/cursor.py): any string; unset, a random
    # key kept in $SPP_DATA_DIR/cursor.key (0600), so every worker on a machine agrees.
    cursor_secret: str | None = None
    # Rows a download (CSV, GeoPackage, Shapefile) fetches from the database at a time.
    export_batch_rows: int = 5000
    # ... and at most about this many bytes of rows (wide rows make smaller batches).
    export_batch_bytes: int = 4 * 2**20
    # -- reports from citizens and businesses (POST /submissions, gis.submissions) --
    # Largest photo a report may carry, bytes: the only route whose body may exceed
    # SPP_MAX_BODY_BYTES (by this much and a little form overhead).
    submission_photo_bytes: int = 5_000_000
    # Largest photo in pixels (width x height), checked before it is decoded.
    submission_photo_pixels: int = 40_000_000
    # Longest text of a report (its message, and any text field), characters.
    submission_text_max: int = 1000
    # Reports per client address: a token bucket of this many an hour, burst = bucket size.
    submission_rate_per_hour: float = 20.0
    submission_rate_burst: int = 5
    # Edits (OGC API - Features Part 4): how long an edit waits for the layer's lock (a load,
    # a rollback or another edit) before it is answered 409 with Retry-After, seconds.
    edit_lock_wait_s: float = 3.0
    # An edit version is the last full table plus the features edited since (gis/edits.py);
    # when those would exceed this many rows the edit writes a full table again (0: always).
    edit_overlay_max_rows: int = 5_000
    # Largest request body of an edit (a GeoJSON feature), bytes; never above max_body_bytes.
    edit_max_body_bytes: int = 1_000_000
    # -- change feed webhooks (gis/hooks) --
    # `gis serve` runs the webhook delivery worker (one at a time across workers and machines).
    hooks_worker: bool = True
    # Feature ids listed in one webhook payload at most; beyond, the payload points at the feed.
    hooks_payload_ids: int = 1000
    # Seconds each step of a delivery (connect, send, response) may take before it fails.
    hooks_timeout_s: float = 10.0
    # Attempts before a delivery is given up ('failed'; `gis hooks retry` queues it again).
    hooks_max_attempts: int = 12
    # Back-off after a failed attempt: base * 2^(attempt-1) seconds, capped, with full jitter.
    hooks_backoff_s: float = 5.0
    hooks_backoff_max_s: float = 3600.0
    # Seconds the worker sleeps when nothing is due.
    hooks_poll_s: float = 2.0

    @property
    def embedded_dir(self) -> Path:
        return self.data_dir / "pg"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
