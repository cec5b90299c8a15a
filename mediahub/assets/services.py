"""Writes to assets: creating from an upload, reprocessing, deleting, and the pipeline's bookkeeping."""

from __future__ import annotations

import logging
import time
import uuid
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import BinaryIO, Iterable

from django.conf import settings
from django.core.files import File
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.db.models import Case, F, Value, When
from django.utils import timezone

from mediahub.assets.models import (BULK_EDITABLE_FIELDS, EDITABLE_FIELDS, Asset, AssetChange, AssetTag, Frame,
                                    RightsPolicy, frame_image_path, frames_folder, proxy_path)
from mediahub.assets.storage import StoreUnavailable, multipart_uploads_abort, storage_folder_delete, storage_is_local
from mediahub.assets.uploads import OriginalWriter, UploadTooLarge
from mediahub.core.progress import Progress, as_is
from mediahub.people.models import face_chips_folder
from mediahub.people.services import asset_faces_delete
from workers.media.probe import MediaError, MediaInfo, probe
from workers.pipeline import EMBED_STEP, FRAMES_STEP, STEPS, pipeline_start

logger = logging.getLogger(__name__)

ACTIVE_STATUSES = (Asset.Status.QUEUED, Asset.Status.PROCESSING)
MAX_CRASHES = 3  # steps of one asset whose worker was killed: then the file is likely what kills it


class UploadRejected(Exception):
    """The file can't become an asset; the message says why. `status` is the HTTP status to answer."""

    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class AssetCreateResult:
    asset: Asset
    duplicate: bool


def asset_create(*, source: BinaryIO, filename: str, owner, title: str = "", description: str = "") -> AssetCreateResult:
    """Store a file read from `source` (written once, to its final place) and queue its processing,
    or return the existing asset with identical bytes (manage.py ingest, tests and benches).

    Raises UploadRejected for empty files, files over the limit and files that are not a
    readable video or image.
    """
    try:
        original = OriginalWriter.copy_from(source, filename=filename)
    except UploadTooLarge as exc:
        raise UploadRejected(str(exc), status=413) from exc
    return asset_create_from_original(original=original, filename=filename, owner=owner, title=title,
                                      description=description)


def asset_create_from_original(*, original: OriginalWriter, filename: str, owner, title: str = "",
                               description: str = "") -> AssetCreateResult:
    """Make an asset of an original already written in place (and, with object storage, uploaded to the
    bucket), or return the existing asset with identical bytes. The file is kept only when it became the
    new asset's original.

    Only the cheap probe that refuses undecodable files runs here; everything else is the pipeline's.
    """
    try:
        existing = Asset.objects.filter(sha256=original.sha256).first()
        if existing is not None:
            return AssetCreateResult(existing, duplicate=True)
        try:
            info = probe(original.path)
        except MediaError as exc:
            status = 400 if original.size == 0 else 415
            raise UploadRejected(f"{filename}: {exc}", status=status) from exc
        try:
            original.store()  # in the object store before the asset is queued
        except StoreUnavailable as exc:
            raise UploadRejected(str(exc), status=503) from exc
        return _asset_insert(original=original, info=info, filename=filename, owner=owner, title=title,
                             description=description)
    finally:
        original.discard()  # a no-op once the file is an asset's original


def _metadata_fields(info: MediaInfo) -> dict:
    return {"kind": info.kind, "mime_type": info.mime_type, "width": info.width, "height": info.height,
            "duration": info.duration, "fps": info.fps, "codec": info.codec, "rotation": info.rotation,
            "bitrate": info.bitrate, "container": info.container}


def _asset_insert(*, original: OriginalWriter, info: MediaInfo, filename: str, owner, title: str,
                  description: str) -> AssetCreateResult:
    asset = Asset(
        owner=owner, title=(title or Path(filename).stem or "Untitled")[:300], description=description,
        original=original.name, original_filename=Path(filename).name[:300], size_bytes=original.size,
        sha256=original.sha256, **_metadata_fields(info),
    )
    try:
        with transaction.atomic():
            asset.save()
            transaction.on_commit(lambda: pipeline_start(asset_id=asset.pk, run_id=asset.run_id,
                                                         first_step=FRAMES_STEP))
    except IntegrityError:
        # The same bytes were uploaded concurrently and won the race (the caller discards our copy).
        return AssetCreateResult(Asset.objects.get(sha256=original.sha256), duplicate=True)
    original.keep()
    logger.info("asset %s created from %s (%s, %d bytes)", asset.pk, filename, info.kind, original.size)
    return AssetCreateResult(asset, duplicate=False)


def asset_update(*, asset: Asset, user, via: str = AssetChange.Via.API, **changes) -> Asset:
    """Set the given metadata fields (EDITABLE_FIELDS, values already validated) and keep the change in the
    asset's history; fields not given, and values equal to the stored ones, are left as they are."""
    with transaction.atomic():
        locked = Asset.objects.select_for_update().get(pk=asset.pk)
        _changes_apply(locked, user=user, via=via, changes=changes)
    for field in changes:
        setattr(asset, field, getattr(locked, field))
    asset.updated_at = locked.updated_at
    return asset


def assets_bulk_update(*, asset_ids: Iterable[int], user, **changes) -> list[Asset]:
    """Set the same metadata (BULK_EDITABLE_FIELDS) on several assets in one transaction, one history
    entry per asset that changed; the assets that no longer exist are skipped."""
    refused = set(changes) - set(BULK_EDITABLE_FIELDS)
    if refused:
        raise ValueError(f"bulk edit does not set {', '.join(sorted(refused))}")
    with transaction.atomic():
        assets = list(Asset.objects.select_for_update().filter(pk__in=list(asset_ids)).order_by("pk"))
        for asset in assets:
            _changes_apply(asset, user=user, via=AssetChange.Via.BULK, changes=changes)
    return assets


def _changes_apply(asset: Asset, *, user, via: str, changes: dict) -> AssetChange | None:
    unknown = set(changes) - set(EDITABLE_FIELDS)
    if unknown:
        raise ValueError(f"not editable: {', '.join(sorted(unknown))}")
    diff = {field: {"from": _history_value(getattr(asset, field)), "to": _history_value(value)}
            for field, value in changes.items() if getattr(asset, field) != value}
    if not diff:
        return None
    for field in diff:
        setattr(asset, field, changes[field])
    asset.save(update_fields=[*diff, "updated_at"])
    return AssetChange.objects.create(asset=asset, user=user, username=user.get_username() if user else "",
                                      via=via, changes=diff)


def _history_value(value):
    """A field's value as JSON, as the API writes it (UTC times end in Z)."""
    return value.isoformat().replace("+00:00", "Z") if isinstance(value, (date, datetime)) else value


@transaction.atomic
def rights_policy_update(*, user, viewers_see_embargoed: bool, viewers_see_do_not_use: bool) -> RightsPolicy:
    """Set whether viewers see embargoed and do-not-use footage (admins; editors and admins always see it)."""
    policy, _ = RightsPolicy.objects.update_or_create(pk=1, defaults={
        "viewers_see_embargoed": viewers_see_embargoed, "viewers_see_do_not_use": viewers_see_do_not_use,
        "updated_by": user})
    return policy


def asset_reprocess(*, asset: Asset, first_step: str = STEPS[0], count_crashes_on: bool = False) -> Asset:
    """Start a new pipeline run (from `first_step`); the previous run, if still going, stops at its next step.
    `count_crashes_on` (the stalled-asset sweep): keep counting the steps whose worker was killed."""
    with transaction.atomic():
        asset.run_id = uuid.uuid4()
        asset.status = Asset.Status.QUEUED
        asset.stage = ""
        asset.progress = 0.0
        asset.error = None
        fields = ["run_id", "status", "stage", "progress", "error", "updated_at"]
        if not count_crashes_on:
            asset.step_open, asset.crashes = False, 0
            fields += ["step_open", "crashes"]
        asset.save(update_fields=fields)
        run_id = asset.run_id
        transaction.on_commit(lambda: pipeline_start(asset_id=asset.pk, run_id=run_id, first_step=first_step))
    return asset


def asset_delete(*, asset: Asset) -> None:
    """Delete the asset, every derived row (by cascade) and, once committed, its files."""
    original, proxy = asset.original.name, asset.proxy
    folders = (frames_folder(asset.pk), face_chips_folder(asset.pk))
    with transaction.atomic():
        asset_faces_delete(asset=asset)  # their people's covers and the face crops too
        asset.delete()
        transaction.on_commit(lambda: (default_storage.delete(original), *map(storage_folder_delete, folders),
                                       proxy and default_storage.delete(proxy)), robust=True)


# The pipeline's bookkeeping. Every write is conditional on the run id, so a
# superseded run can't overwrite a newer one's rows.

def _current(asset_id: int, run_id: str):
    return Asset.objects.filter(pk=asset_id, run_id=run_id)


def asset_step_begin(*, asset_id: int, run_id: str, stage: str, progress: float) -> Asset | None:
    """Claim a step of the current run; None if the run was superseded, the asset deleted or failed.

    A step that began before and never ended (asset_step_end) had its worker killed: SIGKILL, the OOM killer,
    a crash in native code, a redelivery after it. After MAX_CRASHES of those since the last reprocess, by
    redelivery or by the stalled-asset sweep, the asset fails with a sentence instead of killing a worker again.
    """
    claimed = _current(asset_id, run_id).filter(status__in=ACTIVE_STATUSES).update(
        status=Asset.Status.PROCESSING, stage=stage, progress=progress, updated_at=timezone.now(),
        crashes=F("crashes") + Case(When(step_open=True, then=Value(1)), default=Value(0)), step_open=True)
    asset = Asset.objects.filter(pk=asset_id).first() if claimed else None
    if asset is not None and asset.crashes >= MAX_CRASHES:
        asset_fail(asset_id=asset_id, run_id=run_id, message=(
            f"Processing stopped at the '{stage}' step: the worker working on this file was killed {asset.crashes} "
            "times (it may run out of memory on it, or its decoder crash). The upload is kept: use Reprocess to "
            "try again, or export the file again and upload that."))
        return None
    return asset


def asset_step_end(*, asset_id: int, run_id: str) -> None:
    """The step's code has ended, however (see asset_step_begin)."""
    _current(asset_id, run_id).update(step_open=False)


def asset_progress_set(*, asset_id: int, run_id: str, progress: float) -> None:
    _current(asset_id, run_id).update(progress=min(max(progress, 0.0), 1.0))


def asset_metadata_save(*, asset: Asset, info: MediaInfo) -> None:
    _current(asset.pk, asset.run_id).update(**_metadata_fields(info))


def asset_proxy_save(*, asset: Asset, source: Path | None) -> None:
    """Store `source` as the asset's browser-playable proxy, or remove the proxy when None."""
    name = proxy_path(asset.pk)
    default_storage.delete(name)  # storage would otherwise save a re-run's proxy under another name
    if source is not None:
        with open(source, "rb") as handle:
            name = default_storage.save(name, File(handle))
    _current(asset.pk, asset.run_id).update(proxy=name if source is not None else None)


def asset_warning_set(*, asset: Asset, message: str) -> None:
    """Record that a run finished with something skipped (shown as the asset's error)."""
    _current(asset.pk, asset.run_id).update(error=message)


def asset_waiting_note(*, asset_id: int, run_id: str, message: str) -> None:
    """Say why an unfinished run stands still (a service it needs is away); a new run clears it."""
    _current(asset_id, run_id).filter(status__in=ACTIVE_STATUSES).update(error=message)


def asset_fail(*, asset_id: int, run_id: str, message: str) -> None:
    logger.warning("asset %s failed: %s", asset_id, message)
    _current(asset_id, run_id).update(status=Asset.Status.FAILED, error=message, updated_at=timezone.now())


def asset_finish(*, asset_id: int, run_id: str) -> None:
    _current(asset_id, run_id).filter(status=Asset.Status.PROCESSING).update(
        status=Asset.Status.READY, progress=1.0, stage="done", processed_at=timezone.now(), updated_at=timezone.now())


@dataclass(frozen=True)
class FrameRecord:
    index: int
    time: float


@transaction.atomic
def frames_replace(*, asset: Asset, frames: Iterable[FrameRecord], poster_index: int | None) -> None:
    """Make the asset's frame rows exactly `frames` (upsert, delete the rest)."""
    rows = [Frame(asset=asset, index=f.index, time=f.time, image=frame_image_path(asset.pk, f.index)) for f in frames]
    Frame.objects.bulk_create(rows, update_conflicts=True, unique_fields=["asset", "index"],
                              update_fields=["time", "image", "updated_at"])
    Frame.objects.filter(asset=asset).exclude(index__in=[row.index for row in rows]).delete()
    _current(asset.pk, asset.run_id).update(poster_index=poster_index)


@transaction.atomic
def asset_tags_replace(*, asset: Asset, tags: Iterable[AssetTag]) -> None:
    AssetTag.objects.filter(asset=asset).delete()
    AssetTag.objects.bulk_create(list(tags))


def assets_resume_incomplete() -> int:
    """Start a fresh run for every asset left queued or processing (after a stop or crash)."""
    unfinished = list(Asset.objects.filter(status__in=ACTIVE_STATUSES))
    for asset in unfinished:
        asset_reprocess(asset=asset)
    return len(unfinished)


def assets_requeue_stalled(*, runs: Iterable[tuple[int, str]]) -> list[int]:
    """Start a fresh run for each asset still on the run given for it, unfinished: nothing carries that run on
    (README, "Faults"). The old run, should a message of it turn up later, stops at its next step."""
    requeued = []
    for asset_id, run_id in runs:
        with transaction.atomic():
            asset = (Asset.objects.select_for_update()
                     .filter(pk=asset_id, run_id=run_id, status__in=ACTIVE_STATUSES).first())
            if asset is not None:
                asset_reprocess(asset=asset, count_crashes_on=True)
                requeued.append(asset_id)
    return requeued


def assets_reembed(*, progress: Progress = as_is) -> int:
    """Embed and tag every asset again with the configured model (frames are kept when present)."""
    assets = list(Asset.objects.all())
    with_frames = set(Frame.objects.values_list("asset_id", flat=True).distinct())
    for asset in progress(assets, total=len(assets), unit="asset", desc="queue"):
        asset_reprocess(asset=asset, first_step=EMBED_STEP if asset.pk in with_frames else STEPS[0])
    return len(assets)


def staging_prune(*, older_than_hours: int) -> int:
    """Delete upload files left behind by interrupted uploads or crashes: staging files and
    unfinished originals (`.part`) older than the retention, and stored originals no asset owns."""
    cutoff = time.time() - older_than_hours * 3600
    owned = set(Asset.objects.values_list("original", flat=True))
    candidates = [*(settings.DATA_DIR / "staging").glob("*"), *(Path(settings.MEDIA_ROOT) / "originals").glob("*")]
    removed = 0
    for path in candidates:
        name = path.relative_to(settings.MEDIA_ROOT).as_posix() if path.is_relative_to(settings.MEDIA_ROOT) else None
        if path.is_file() and path.stat().st_mtime < cutoff and name not in owned:
            path.unlink(missing_ok=True)
            removed += 1
    if not storage_is_local():  # an upload stored in the bucket just before a crash, never made an asset
        for name in (f"originals/{name}" for name in _stored_names("originals")[1]):
            if name not in owned and default_storage.get_modified_time(name).timestamp() < cutoff:
                default_storage.delete(name)
                removed += 1
        removed += multipart_uploads_abort(prefix="originals/", started_before=cutoff)  # a web process killed mid-upload
    return removed


def _stored_names(folder: str) -> tuple[list[str], list[str]]:
    """(folders, files) directly under a stored folder; none when it doesn't exist."""
    try:
        return default_storage.listdir(folder)
    except FileNotFoundError:
        return [], []


