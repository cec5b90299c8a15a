"""MEDIAHUB_STORAGE_URL: where media is stored, as Django's STORAGES["default"] entry (README, "Object storage").

Unset or empty: the local filesystem under MEDIA_ROOT. Otherwise an S3-compatible bucket through
django-storages and boto3:

    s3://KEY:SECRET@HOST:PORT/BUCKET       a server over https (MinIO, SeaweedFS, Garage, rclone ...)
    s3+http://KEY:SECRET@HOST:PORT/BUCKET  the same over plain http
    s3://BUCKET                            AWS S3, credentials and region from the standard AWS chain
    ...?region=eu-west-1                   the region to sign for (optional)

Path-style addressing and SigV4, which every S3-compatible server understands.
"""

from __future__ import annotations

from urllib.parse import parse_qs, unquote, urlsplit

from django.core.exceptions import ImproperlyConfigured

LOCAL = {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"allow_overwrite": True}}
# Presigned media links live this long: enough to start playing or downloading (a player that seeks after
# they expire asks the media URL again), short enough that a copied link soon stops working.
PRESIGNED_SECONDS = 300
_SCHEMES = {"s3": "https", "s3+http": "http"}
_EXAMPLE = "s3://KEY:SECRET@HOST:PORT/BUCKET, s3+http://KEY:SECRET@HOST:PORT/BUCKET or s3://BUCKET"


def storage_from_url(url: str) -> dict:
    """The STORAGES["default"] entry for MEDIAHUB_STORAGE_URL; ImproperlyConfigured with a sentence if malformed."""
    if not url:
        return LOCAL
    from botocore.config import Config  # only when S3 is used

    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise _malformed(url, str(exc)) from exc
    if parts.scheme not in _SCHEMES:
        raise _malformed(url, "it must start with s3:// or s3+http://")
    bucket = parts.path.strip("/")
    query = parse_qs(parts.query)
    unknown = set(query) - {"region"}
    if unknown:
        raise _malformed(url, f"the only query option is region, not {', '.join(sorted(unknown))}")
    endpoint = None
    if bucket:
        if not parts.hostname:
            raise _malformed(url, "the server's host is missing")
        endpoint = f"{_SCHEMES[parts.scheme]}://{parts.hostname}{f':{port}' if port else ''}"
    elif parts.scheme == "s3" and parts.hostname and not port:  # s3://BUCKET: AWS
        bucket = parts.hostname
    if not bucket or "/" in bucket:
        raise _malformed(url, "it must name one bucket")
    if bool(parts.username) != bool(parts.password):
        raise _malformed(url, "give both the access key and the secret (KEY:SECRET@), or neither")
    return {"BACKEND": "storages.backends.s3.S3Storage", "OPTIONS": {
        "bucket_name": bucket,
        "endpoint_url": endpoint,
        "access_key": unquote(parts.username) if parts.username else None,
        "secret_key": unquote(parts.password) if parts.password else None,
        "region_name": query.get("region", [None])[-1] or ("us-east-1" if endpoint else None),
        "client_config": Config(
            signature_version="s3v4", s3={"addressing_style": "path"},
            # Checksums only where S3 requires them: many S3-compatible servers reject the newer defaults.
            request_checksum_calculation="when_required", response_checksum_validation="when_required",
            # A store that doesn't answer is retried for a few seconds within a call; the pipeline's own
            # retries (workers/celery.py) carry a step through a longer outage.
            retries={"max_attempts": 5, "mode": "standard"}, connect_timeout=5, read_timeout=60),
        # Large files go up and down in 8 MiB parts, four at a time, at most four more read ahead: the web
        # process grew by 74 MiB while sending a 1 GiB upload to the bucket (boto3's defaults: 147 MiB).
        "transfer_config": _transfer_config(),
        "file_overwrite": True,  # pipeline re-runs overwrite their frame files in place (same names)
        "querystring_auth": True,
        "querystring_expire": PRESIGNED_SECONDS,
        "default_acl": None,
    }}


def _transfer_config():
    from boto3.s3.transfer import TransferConfig

    config = TransferConfig(multipart_chunksize=8 << 20, max_concurrency=4)
    # s3transfer's read-ahead bounds; boto3's TransferConfig takes them only as attributes.
    config.max_in_memory_upload_chunks = config.max_in_memory_download_chunks = 4
    return config


def _malformed(url: str, reason: str) -> ImproperlyConfigured:
    shown = urlsplit(url)._replace(netloc=urlsplit(url).netloc.rpartition("@")[2]).geturl() if "@" in url else url
    return ImproperlyConfigured(f"MEDIAHUB_STORAGE_URL {shown!r} is malformed: {reason}. Use {_EXAMPLE}, "
                                "or leave it unset for files under the data dir.")
