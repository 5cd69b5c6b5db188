"""Stored bytes in an S3-compatible bucket, behind the same methods as the local `Storage`.

`HACKATHON_STORAGE_URL=s3://bucket/prefix` keeps uploads under `<prefix>/files/<aa>/<sha256>` and
competition data files under `<prefix>/data/<aa>/<sha256>`; hidden labels go to
`HACKATHON_LABELS_STORAGE_URL` (`<labels prefix>/<sha256>.csv`), by default `<prefix>/labels/`.
Keys are content addresses, as in the folder layout, so the database rows do not change.

Callers get local paths, as from the folder backend: an object is fetched once into this
machine's cache (`<HOME>/cache`, named by its SHA-256 and checked against it while streaming,
bounded by `CACHE_MB`), so a worker parses hidden labels from local disk and a team's download is
served from disk with Range and ETag. Both directions stream: an upload is spooled to a temporary
file while hashed, then sent with `upload_fileobj` (multipart above 8 MB); a fetch iterates the
response body in 1 MB chunks. Nothing holds a whole file in memory.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

from server.errors import ConfigError
from server.storage import CHUNK, Storage, StoredFile, file_sha256

__all__ = ["S3Storage", "make_storage", "parse_s3_url"]

# A cached object younger than this is never evicted: a caller may be about to open it.
_EVICT_MIN_AGE_S = 120


def parse_s3_url(url: str) -> tuple[str, str]:
    """`s3://bucket/some/prefix` → ("bucket", "some/prefix")."""
    rest = url[len("s3://"):]
    bucket, _, prefix = rest.partition("/")
    if not bucket:
        raise ConfigError(f"storage URL {url!r} names no bucket; expected s3://bucket/prefix")
    return bucket, prefix.strip("/")


def _join(*parts: str) -> str:
    return "/".join(p.strip("/") for p in parts if p.strip("/"))


def make_storage(config: dict[str, Any]) -> Storage:
    """The instance folder, or the bucket when STORAGE_URL is set."""
    if not config.get("STORAGE_URL"):
        return Storage(config["HOME"])
    return S3Storage(config["HOME"], config["STORAGE_URL"], labels_url=config.get("LABELS_STORAGE_URL"),
                     endpoint_url=config.get("S3_ENDPOINT_URL"), cache_mb=int(config.get("CACHE_MB") or 2000))


class S3Storage(Storage):
    """Submissions, data files and hidden labels in a bucket; a local, bounded cache of what was read."""

    def __init__(self, home: Path, url: str, *, labels_url: str | None = None, endpoint_url: str | None = None,
                 cache_mb: int = 2000) -> None:
        super().__init__(home)
        self.bucket, self.prefix = parse_s3_url(url)
        if labels_url:
            self.labels_bucket, self.labels_prefix = parse_s3_url(labels_url)
        else:
            self.labels_bucket, self.labels_prefix = self.bucket, _join(self.prefix, "labels")
        self.endpoint_url = endpoint_url
        self.cache_dir = home / "cache"
        self.cache_limit = cache_mb * 1_000_000
        self._client: Any = None
        self._lock = threading.Lock()
        self._cached_bytes: int | None = None

    @property
    def client(self) -> Any:
        with self._lock:
            if self._client is None:
                import boto3  # only S3 deployments pay for importing it
                from botocore.config import Config

                # boto3 clients are thread-safe; one per process, made after gunicorn's fork.
                self._client = boto3.session.Session().client(
                    "s3", endpoint_url=self.endpoint_url,
                    config=Config(retries={"max_attempts": 5, "mode": "standard"}, max_pool_connections=32))
            return self._client

    # -- keys ----------------------------------------------------------------------------------
    def submission_key(self, sha256: str) -> str:
        return _join(self.prefix, "files", sha256[:2], sha256)

    def data_key(self, sha256: str) -> str:
        return _join(self.prefix, "data", sha256[:2], sha256)

    def labels_key(self, sha256: str) -> str:
        return _join(self.labels_prefix, f"{sha256}.csv")

    # -- the Storage methods -------------------------------------------------------------------
    def ensure_folders(self) -> None:
        for folder in (self.tmp_dir, self.cache_dir / "labels"):
            folder.mkdir(parents=True, exist_ok=True)
        (self.cache_dir / "labels").chmod(0o700)

    def submission_path(self, sha256: str) -> Path:
        return self._fetch(self.bucket, self.submission_key(sha256), sha256,
                           self.cache_dir / "files" / sha256[:2] / sha256)

    def save_stream(self, stream: IO[bytes], max_bytes: int, expected_bytes: int | None = None,
                    on_progress: Callable[[int], None] | None = None) -> StoredFile:
        """Spool an upload to a temporary file while hashing it (Storage.spool_upload: the same
        limits and refusals), then send it to the bucket."""
        tmp_name, sha, size = self.spool_upload(stream, max_bytes, expected_bytes, on_progress)
        try:
            cached = self._put(Path(tmp_name), self.bucket, self.submission_key(sha),
                               self.cache_dir / "files" / sha[:2] / sha)
            return StoredFile(sha, size, cached)
        finally:
            if os.path.exists(tmp_name):
                os.unlink(tmp_name)

    def save_labels(self, source: Path) -> tuple[str, str]:
        self.ensure_folders()
        sha, _ = file_sha256(source)
        self._put(source, self.labels_bucket, self.labels_key(sha), None)
        return f"labels/{sha}.csv", sha

    def labels_path(self, relative: str) -> Path:
        sha = Path(relative).stem
        target = self.cache_dir / "labels" / f"{sha}.csv"
        path = self._fetch(self.labels_bucket, self.labels_key(sha), sha, target)
        path.chmod(0o600)
        return path

    def save_data(self, source: Path) -> tuple[str, StoredFile]:
        self.ensure_folders()
        sha, size = file_sha256(source)
        self._put(source, self.bucket, self.data_key(sha), None)
        return f"data/{sha[:2]}/{sha}", StoredFile(sha, size, self.cache_dir / "data" / sha[:2] / sha)

    def data_path(self, relative: str) -> Path:
        sha = Path(relative).name
        return self._fetch(self.bucket, self.data_key(sha), sha, self.cache_dir / "data" / sha[:2] / sha)

    # -- transfer ------------------------------------------------------------------------------
    def _exists(self, bucket: str, key: str) -> bool:
        from botocore.exceptions import ClientError

        try:
            self.client.head_object(Bucket=bucket, Key=key)
            return True
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return False
            raise

    def _put(self, source: Path, bucket: str, key: str, cache_as: Path | None) -> Path:
        """Upload `source` unless the key exists (same bytes: content-addressed); keep a cached copy."""
        if not self._exists(bucket, key):
            with open(source, "rb") as fh:
                self.client.upload_fileobj(fh, bucket, key)
        if cache_as is None:
            return source
        if not cache_as.exists():
            cache_as.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=cache_as.parent, prefix=".part-")
            os.close(fd)
            if source.parent == self.tmp_dir:  # our spooled upload: it becomes the cached copy
                os.replace(source, tmp)
            else:
                _copy(source, Path(tmp))
            os.replace(tmp, cache_as)
            self._account(cache_as.stat().st_size)
        return cache_as

    def _fetch(self, bucket: str, key: str, sha256: str, target: Path) -> Path:
        """Return the local copy of an object, streaming it from the bucket on first use."""
        if target.exists():
            os.utime(target)  # recently used: evicted last
            return target
        from botocore.exceptions import ClientError

        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            body = self.client.get_object(Bucket=bucket, Key=key)["Body"]
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                raise FileNotFoundError(f"s3://{bucket}/{key} is not in the bucket") from None
            raise
        digest = hashlib.sha256()
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".part-")
        try:
            with os.fdopen(fd, "wb") as out:
                for chunk in body.iter_chunks(CHUNK):
                    digest.update(chunk)
                    out.write(chunk)
            if digest.hexdigest() != sha256:
                raise OSError(f"s3://{bucket}/{key} does not hash to its name (got {digest.hexdigest()})")
            os.replace(tmp, target)
        finally:
            body.close()
            if os.path.exists(tmp):
                os.unlink(tmp)
        self._account(target.stat().st_size)
        return target

    def _account(self, added: int) -> None:
        """Keep the cache of submissions and data files under CACHE_MB, oldest use first."""
        with self._lock:
            if self._cached_bytes is None:
                self._cached_bytes = sum(stat.st_size for _, stat in self._cached_files())
            else:
                self._cached_bytes += added
            if self._cached_bytes <= self.cache_limit:
                return
            now = time.time()
            files = sorted(self._cached_files(), key=lambda item: item[1].st_mtime)
            total = sum(stat.st_size for _, stat in files)
            for path, stat in files:
                if total <= self.cache_limit * 0.8:
                    break
                if now - stat.st_mtime < _EVICT_MIN_AGE_S:
                    continue
                path.unlink(missing_ok=True)
                total -= stat.st_size
            self._cached_bytes = total

    def _cached_files(self) -> list[tuple[Path, os.stat_result]]:
        out: list[tuple[Path, os.stat_result]] = []
        for kind in ("files", "data"):  # labels stay: small, and every job needs them
            for path in (self.cache_dir / kind).glob("*/*"):
                if path.name.startswith(".part-"):
                    continue
                try:
                    out.append((path, path.stat()))
                except FileNotFoundError:
                    pass  # evicted meanwhile by another process sharing this HOME (embedded mode)
        return out


def _copy(source: Path, target: Path) -> None:
    import shutil

    shutil.copyfile(source, target)
