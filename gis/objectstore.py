"""S3-compatible object storage for the files several machines share: raster versions (COGs,
read by GDAL through /vsis3/) and the public vector-tile cache.

``SPP_OBJECT_STORE=s3://bucket/prefix`` turns it on; ``SPP_S3_ENDPOINT_URL`` names a server
other than AWS (MinIO, Ceph, ...); credentials and region come from the standard AWS
variables (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_REGION), which boto3 and GDAL both
read. Objects are written whole (a PUT is atomic), so readers never see half a file.
"""

from __future__ import annotations

import threading
from functools import lru_cache
from pathlib import Path
from urllib.parse import urlsplit

from gis.errors import SetupError
from gis.settings import get_settings


class ObjectStore:
    def __init__(self, url: str, endpoint: str | None = None, quick: bool = False):
        parts = urlsplit(url)
        if parts.scheme != "s3" or not parts.netloc:
            raise SetupError(f"SPP_OBJECT_STORE={url!r}: expected s3://bucket/prefix")
        self.bucket = parts.netloc
        self.prefix = parts.path.strip("/")
        self.endpoint = endpoint
        self.quick = quick  # a cache's client: one attempt, short timeouts
        self._client = None
        self._lock = threading.Lock()

    @property
    def client(self):
        if self._client is None:
            with self._lock:  # made once (making clients from threads at once is not safe)
                if self._client is None:
                    import boto3
                    from botocore.config import Config

                    attempts, connect, read = (1, 1, 2) if self.quick else (3, 3, 20)
                    self._client = boto3.client(
                        "s3", endpoint_url=self.endpoint,
                        config=Config(retries={"max_attempts": attempts, "mode": "standard"},
                                      connect_timeout=connect, read_timeout=read,
                                      s3={"addressing_style": "path"} if self.endpoint
                                      else {}))
        return self._client

    def key(self, rel: str) -> str:
        return f"{self.prefix}/{rel}" if self.prefix else rel

    def gdal_path(self, rel: str) -> str:
        return f"/vsis3/{self.bucket}/{self.key(rel)}"

    def put_file(self, local: Path, rel: str) -> None:
        self.client.upload_file(str(local), self.bucket, self.key(rel))

    def put_bytes(self, rel: str, data: bytes) -> None:
        self.client.put_object(Bucket=self.bucket, Key=self.key(rel), Body=data)

    def get_bytes(self, rel: str) -> bytes | None:
        try:
            return self.client.get_object(Bucket=self.bucket, Key=self.key(rel))["Body"].read()
        except self.client.exceptions.NoSuchKey:
            return None

    def exists(self, rel: str) -> bool:
        from botocore.exceptions import ClientError

        try:
            self.client.head_object(Bucket=self.bucket, Key=self.key(rel))
            return True
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return False
            raise

    def delete(self, rel: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=self.key(rel))

    def list(self, rel_prefix: str) -> list[str]:
        """Relative names of the objects under a prefix."""
        out, start = [], self.key(rel_prefix)
        for page in self.client.get_paginator("list_objects_v2").paginate(
                Bucket=self.bucket, Prefix=start):
            base = len(self.key(""))
            out += [o["Key"][base:] for o in page.get("Contents", [])]
        return out

    def gdal_config(self) -> dict[str, str]:
        """GDAL's /vsis3/ settings for this store (an S3-compatible server: path-style)."""
        if not self.endpoint:
            return {}
        parts = urlsplit(self.endpoint)
        return {"AWS_S3_ENDPOINT": parts.netloc, "AWS_VIRTUAL_HOSTING": "FALSE",
                "AWS_HTTPS": "YES" if parts.scheme == "https" else "NO"}


@lru_cache(maxsize=1)
def object_store() -> ObjectStore | None:
    s = get_settings()
    return ObjectStore(s.object_store, s.s3_endpoint_url) if s.object_store else None


@lru_cache(maxsize=1)
def cache_store() -> ObjectStore | None:
    """The same store for caches: a slow store must not make a request wait long."""
    s = get_settings()
    return ObjectStore(s.object_store, s.s3_endpoint_url, quick=True) if s.object_store \
        else None
