"""Platform settings, read from environment variables (documented in the README)."""

from functools import lru_cache
from pathlib import Path

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SPP_", extra="ignore")

    # An external PostgreSQL/PostGIS server; when unset the embedded cluster is used.
    database_url: str | None = Field(
        default=None, validation_alias=AliasChoices("DATABASE_URL", "SPP_DATABASE_URL")
    )
    # Where the embedded cluster, raster store and tile cache live.
    data_dir: Path = PROJECT_ROOT / "var"
    # Port of the embedded cluster; 0 picks a free one on first start.
    pg_port: int = 0
    # PostgreSQL bin directory for the embedded cluster (default: newest one with PostGIS).
    pg_bindir: Path | None = None
    layers_dir: Path = PROJECT_ROOT / "layers"
    styles_dir: Path = PROJECT_ROOT / "styles"
    host: str = "127.0.0.1"
    port: int = 8000
    # Recorded as the operator of loads and rollbacks (defaults to the OS user).
    operator: str | None = None
    # How many old versions of a layer stay restorable by `gis layer rollback`.
    keep_versions: int = 5
    # PostgreSQL statement timeout for web requests, milliseconds.
    statement_timeout_ms: int = 15000

    @property
    def embedded_dir(self) -> Path:
        return self.data_dir / "pg"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
