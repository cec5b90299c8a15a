"""Thin Celery tasks: load ids, call compute, call services to persist.

Every step takes (asset_id, run_id) and is idempotent: a re-run (redelivery
after a crash, a retry, a reprocess) rewrites the same rows.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import time

import numpy as np
from celery.exceptions import Ignore, SoftTimeLimitExceeded
from django.conf import settings
from django.core.files.storage import default_storage
from PIL import Image

from mediahub.assets import services as assets
from mediahub.assets.models import Asset, AssetTag, Frame, frame_image_path
from mediahub.assets.storage import STORE_UNREACHABLE, StoreWrites, local_copy, readable, store_map
from mediahub.copies import selectors as copies_selectors
from mediahub.copies import services as copies
from mediahub.people import services as people
from mediahub.search import services as search
from mediahub.search.models import FrameEmbedding
from mediahub.search.selectors import active_clip_spec, calibration_for, tag_labels_active
from mediahub.shots import captioning
from mediahub.shots import selectors as shots_selectors
from mediahub.shots import services as shots_services
from workers.celery import PIPELINE_TASK, TRANSIENT_ERRORS, app, process_cores
from workers.media.frames import SamplingReport, encode_jpeg, sample_image, sample_video
from workers.media.probe import MediaError, probe
from workers.media.shots import ShotSampler, frames_in_shots, shot_spans
from workers.ml.clip import ModelUnavailable, load_clip
from workers.ml.dna import DnaSampler, Fingerprint
from workers.ml.captioner import CaptionerUnavailable
from workers.ml.describe import Describer
from workers.ml.faces import FaceScan
from workers.ml.tagging import tag_ranges
from workers.scratch import ScratchFull, scratch_folder

logger = logging.getLogger(__name__)
PROGRESS_EVERY_SECONDS = 2.0


class StepFailed(Exception):
    """A permanent failure of a step; its message is shown to users as the asset's error."""


def pipeline_step(stage: str, progress: float):
    """Claim the step for the current run, or stop the chain if the run is superseded;
    turn permanent errors into a failed asset with a readable sentence."""

    def decorate(func):
        @functools.wraps(func)
        def step(self, asset_id: int, run_id: str):
            asset = assets.asset_step_begin(asset_id=asset_id, run_id=run_id, stage=stage, progress=progress)
            if asset is None:
                logger.info("asset %s run %s: superseded or gone, skipping %s", asset_id, run_id, stage)
                raise Ignore()
            try:
                return func(self, asset)
            except (MediaError, ModelUnavailable, StepFailed) as exc:
                assets.asset_fail(asset_id=asset_id, run_id=run_id, message=str(exc))
                raise Ignore() from exc
            except SoftTimeLimitExceeded as exc:
                limit = settings.TASK_TIME_LIMIT_SECONDS
                assets.asset_fail(asset_id=asset_id, run_id=run_id, message=(
                    f"The '{stage}' step ran longer than its limit of {limit / 60:g} minutes and was stopped. "
                    "The upload is kept: reprocess it, or raise MEDIAHUB_TASK_TIME_LIMIT for files this long."))
                raise Ignore() from exc
            finally:
                with contextlib.suppress(*TRANSIENT_ERRORS):  # the database may be what is down
                    assets.asset_step_end(asset_id=asset_id, run_id=run_id)

        return step

    return decorate


class PipelineTask(app.Task):
    abstract = True
    stage = ""  # the step's name as users see it in the asset's stage and errors
    log_ids_from_args = ("asset_id", "run_id")  # every log line of a step carries them (workers/celery.py)

    def on_failure(self, exc, task_id, args, kwargs, einfo):
        """An unexpected error: the asset fails with a sentence, the upload stays. The database or the broker
        unreachable (retries used up, or the next step not published) is no fault of the asset: it stays
        unfinished, and the stalled-asset sweep (workers/recovery.py) starts it again once they answer."""
        if isinstance(exc, TRANSIENT_ERRORS):
            logger.warning("asset %s: the '%s' step stopped on %s: %s; the stalled-asset sweep will start it "
                           "again", args[0] if args else "?", self.stage, exc.__class__.__name__, exc)
            if len(args) == 2:
                with contextlib.suppress(*TRANSIENT_ERRORS):  # the database may be what is down
                    assets.asset_waiting_note(asset_id=args[0], run_id=args[1], message=_waiting(self.stage, exc))
            return
        if len(args) == 2:
            assets.asset_fail(asset_id=args[0], run_id=args[1], message=(
                f"Processing stopped at the '{self.stage}' step because of an internal error "
                f"({exc.__class__.__name__}: {str(exc)[:200]}). The upload is kept: use Reprocess to try again."))


def _waiting(stage: str, exc: Exception) -> str:
    """What an unfinished asset shows while a service it needs is away (cleared when it starts again)."""
    if isinstance(exc, ScratchFull):
        cause = str(exc)
    elif isinstance(exc, STORE_UNREACHABLE):
        cause = "The media store could not be reached."
    else:
        cause = "The database or the message broker could not be reached."
    return (f"Waiting at the '{stage}' step: {cause} Processing starts again by itself within a few minutes "
            "of that being resolved; the upload is kept.")


def pipeline_task(stage: str, progress: float):
    def decorate(func):
        return app.task(bind=True, base=PipelineTask, name=f"workers.tasks.{func.__name__}", stage=stage,
                        **PIPELINE_TASK)(
            pipeline_step(stage, progress)(func))

    return decorate


@pipeline_task("probe", 0.02)
def asset_probe(self, asset: Asset) -> None:
    with readable(asset.original.name) as original:  # in a bucket: only the parts the probe reads
        info = probe(original)
    assets.asset_metadata_save(asset=asset, info=info)


@pipeline_task("frames", 0.05)
def asset_sample_frames(self, asset: Asset) -> None:
    """Sample frames and, in the same decode, make a browser-playable proxy if the original isn't one,
    find and track faces in larger pictures of the sampled frames (then group them into people), and
    make the asset's video DNA fingerprint (stored at once, so a copy ingested at the same time can find
    this one) and its shots (cuts found on small pictures of the same decode; an image is one shot)."""
    interval = settings.FRAME_INTERVAL_SECONDS
    report = SamplingReport()
    dna = DnaSampler()
    shot_sampler = ShotSampler()
    records, last_progress = [], time.monotonic()
    with (local_copy(asset.original.name) as path, scratch_folder(settings.SCRATCH_DIR) as scratch,
          _face_scan(asset) as faces, StoreWrites() as pictures):
        proxy = scratch / "proxy.mp4"
        face_short_side = settings.FACE_SHORT_SIDE if faces else None
        sampled = ([sample_image(path, face_short_side=face_short_side, dna=dna)] if asset.kind == Asset.Kind.IMAGE
                   else sample_video(path, interval=interval, report=report, proxy_path=proxy,
                                     face_short_side=face_short_side, dna=dna, shots=shot_sampler,
                                     threads=process_cores()))
        for frame in sampled:
            pictures.save(frame_image_path(asset.pk, frame.index), functools.partial(encode_jpeg, frame.image))
            if faces:
                faces.add(frame.time, frame.face_image)
            records.append(assets.FrameRecord(index=frame.index, time=frame.time))
            if time.monotonic() - last_progress > PROGRESS_EVERY_SECONDS and asset.duration:
                assets.asset_progress_set(asset_id=asset.pk, run_id=asset.run_id,
                                          progress=0.05 + 0.45 * min(frame.time / asset.duration, 1.0))
                last_progress = time.monotonic()
        assets.asset_proxy_save(asset=asset, source=proxy if report.proxy else None)
        tracks = faces.finish() if faces else None
    assets.frames_replace(asset=asset, frames=records, poster_index=_poster_index(records))
    duration = asset.duration if asset.kind == Asset.Kind.VIDEO and asset.duration else 0.0
    copies.fingerprint_save(asset=asset, fingerprint=dna.fingerprint(duration=duration))
    shot_duration = (duration or report.decoded_until) if asset.kind == Asset.Kind.VIDEO else 0.0
    shots_services.shots_replace(asset=asset, spans=shot_spans(shot_sampler.cuts(), shot_duration),
                                 frames=records)
    if tracks is not None:
        people.faces_replace(asset=asset, tracks=tracks)
    warning = _damage_warning(report, asset.duration, interval) if asset.kind == Asset.Kind.VIDEO else None
    if warning:
        assets.asset_warning_set(asset=asset, message=warning)


def _face_scan(asset: Asset) -> contextlib.AbstractContextManager[FaceScan | None]:
    """Faces are found in the frames step's own decode: no larger frames are stored for a later step
    (README "Ingest speed"). Off with MEDIAHUB_FACES=off; the asset's stored faces then stay as they are."""
    if not settings.FACES_ENABLED:
        return contextlib.nullcontext()
    return FaceScan(source_size=(asset.width, asset.height), interval=settings.FRAME_INTERVAL_SECONDS,
                    threads=process_cores())


def _damage_warning(report: SamplingReport, duration: float | None, interval: float) -> str | None:
    """Which seconds were lost inside the file, or how far a broken-off file could be decoded.
    (FFmpeg ends a cut-off streamable MP4 quietly, without an error, hence the comparison with the duration.)"""
    if report.lost:
        return (f"{report.lost_text()} could not be decoded ({report.damaged}); the file is damaged there. "
                "The rest is searchable.")
    if duration and (report.damaged or report.decoded_until < duration - max(2 * interval, 0.1 * duration)):
        cause = f" ({report.damaged})" if report.damaged else ""
        return (f"Only the first {report.decoded_until:.1f} s of {duration:.1f} s could be decoded{cause}; "
                "the file is truncated or damaged. The decoded part is searchable.")
    return None


def _poster_index(records: list) -> int | None:
    """A frame a third of the way in: past fades from black, still early in the story."""
    return records[len(records) // 3].index if records else None


@pipeline_task("embed", 0.5)
def asset_embed_frames(self, asset: Asset) -> None:
    spec = active_clip_spec()
    model = load_clip(spec)
    embedding_model = search.embedding_model_ensure(spec=spec)
    frames = list(Frame.objects.filter(asset=asset).order_by("index"))
    batch_size = settings.EMBED_BATCH_SIZE
    for start in range(0, len(frames), batch_size):
        batch = frames[start:start + batch_size]
        vectors = model.embed_images(store_map(_open_frame, batch), batch_size=batch_size)
        search.frame_embeddings_save(asset=asset, model=embedding_model, frames=batch, vectors=vectors)
        assets.asset_progress_set(asset_id=asset.pk, run_id=asset.run_id,
                                  progress=0.5 + 0.4 * (start + len(batch)) / len(frames))


def _open_frame(frame: Frame) -> Image.Image:
    return _open_image(frame.image)


def _open_image(name: str) -> Image.Image:
    with default_storage.open(name, "rb") as handle:
        image = Image.open(handle)
        image.load()
    return image.convert("RGB")


@pipeline_task("tags", 0.92)
def asset_tag(self, asset: Asset) -> None:
    spec = active_clip_spec()
    model = load_clip(spec)
    embedding_model = search.embedding_model_ensure(spec=spec)
    labels = list(tag_labels_active(spec))
    rows = list(FrameEmbedding.objects.filter(asset=asset, model=embedding_model).order_by("time").values_list("time", "embedding"))
    if not labels or not rows:
        assets.asset_tags_replace(asset=asset, tags=[])
        return
    label_vectors = vocabulary_vectors(spec, tuple(tuple(label.prompt_list()) for label in labels))
    times = [row[0] for row in rows]
    frame_vectors = np.asarray([row[1] for row in rows], dtype=np.float32)
    ranges = tag_ranges(frame_vectors, times, label_vectors, [label.group for label in labels],
                        logit_scale=model.logit_scale,
                        min_similarity=calibration_for(spec=spec, model=embedding_model).tag_floor,
                        interval=settings.FRAME_INTERVAL_SECONDS, duration=asset.duration)
    assets.asset_tags_replace(asset=asset, tags=[
        AssetTag(asset=asset, label=labels[r.label], start=r.start, end=r.end, score=r.score) for r in ranges])


@functools.lru_cache(maxsize=4)
def vocabulary_vectors(spec, prompts: tuple[tuple[str, ...], ...]) -> np.ndarray:
    """One vector per label: the normalised mean of its prompts' text vectors.
    Cached per worker process until the vocabulary (or the model) changes; prompt vectors
    are also kept in the database, so only new or edited prompts are encoded."""
    prompt_vectors = search.prompt_vectors(spec=spec, model=search.embedding_model_ensure(spec=spec),
                                           texts=[prompt for group in prompts for prompt in group])
    owners = np.repeat(np.arange(len(prompts)), [len(group) for group in prompts])
    means = np.stack([prompt_vectors[owners == i].mean(axis=0) for i in range(len(prompts))])
    vectors = (means / np.linalg.norm(means, axis=1, keepdims=True)).astype(np.float32)
    vectors.setflags(write=False)  # shared by every later call
    return vectors


@pipeline_task("descriptions", 0.93)
def asset_describe_shots(self, asset: Asset) -> None:
    """Describe every shot in English and Chinese from its frames' image vectors (the active model's).
    An asset stored before shots existed has none until it is reprocessed."""
    shots = shots_selectors.asset_shots(asset=asset)
    spec = active_clip_spec()
    embedding_model = search.embedding_model_ensure(spec=spec)
    rows = list(FrameEmbedding.objects.filter(asset=asset, model=embedding_model).order_by("time")
                .values_list("time", "embedding"))
    if not shots or not rows:
        return
    describer = shot_describer(spec, calibration_for(spec=spec, model=embedding_model).tag_floor)
    vectors = np.asarray([row[1] for row in rows], dtype=np.float32)
    groups = frames_in_shots([row[0] for row in rows], [(shot.start, shot.end) for shot in shots])
    descriptions = [describer.describe(vectors[group]) for group in groups]
    shots_services.shot_descriptions_save(asset=asset, descriptions=[
        {"en": description.en, "zh": description.zh} for description in descriptions])


def shot_describer(spec, floor: float):
    """The model's description method (README "Descriptions"): a captioner trained for it with
    `manage.py train_captioner`, else the grammar. An unreadable captioner falls back to the grammar
    with a warning in the worker's log rather than failing the asset."""
    if captioning.describer_method(spec) == "captioner":
        try:
            captioner = captioning.captioner_for(spec)
        except CaptionerUnavailable as exc:
            logger.warning("describing with the grammar: %s", exc)
        else:
            if captioner is not None:
                return captioner
    return grammar_describer(spec, floor)


@functools.lru_cache(maxsize=4)
def grammar_describer(spec, floor: float) -> Describer:
    """One per model and floor per worker process; its phrase vectors come from the stored prompt
    vectors (encoded once per library, like tag prompts)."""
    model = load_clip(spec)
    embedding_model = search.embedding_model_ensure(spec=spec)
    return Describer.for_model(model, floor=floor, encode_texts=lambda texts: search.prompt_vectors(
        spec=spec, model=embedding_model, texts=texts))


@pipeline_task("copies", 0.97)
def asset_copies(self, asset: Asset) -> None:
    """Find the other assets holding this asset's footage and store the copies both ways (database
    work: the default queue). A run that didn't sample frames (a re-embedding) keeps the fingerprint
    and the copies it had."""
    stored = copies_selectors.fingerprint_of(asset=asset)
    if stored is None or str(stored.run_id) != str(asset.run_id):
        return
    fingerprint = Fingerprint.from_bytes(bytes(stored.data))
    found = copies_selectors.copies_find(query=fingerprint, exclude_asset_id=asset.pk,
                                         also=copies_selectors.clip_candidates(asset=asset))
    copies.matches_store(asset=asset, fingerprint_id=stored.pk, found=found)


@pipeline_task("finish", 0.99)
def asset_finish(self, asset: Asset) -> None:
    assets.asset_finish(asset_id=asset.pk, run_id=asset.run_id)
    search.calibration_schedule_if_due(spec=active_clip_spec())


@app.task(name="workers.tasks.model_calibrate", acks_late=True)
def model_calibrate(model_key: str) -> None:
    """Measure the active model's calibration on the library (enqueued once the library is large enough)."""
    spec = active_clip_spec()
    if spec.key != model_key:
        logger.info("calibration of %s skipped: the active model is now %s", model_key, spec.key)
        return
    try:
        row = search.calibration_measure(spec=spec)
    except (search.CalibrationFailed, ModelUnavailable) as exc:
        logger.warning("calibration of %s skipped: %s", model_key, exc)
        return
    logger.info("calibrated %s on %d frames: %s", model_key, row.frames, row.details)


@app.task(name="workers.tasks.people_regroup", ignore_result=True)
def people_regroup() -> None:
    """Regroup every face track of the library into people, keeping editors' decisions (beat, nightly)."""
    report = people.people_regroup()
    logger.info("people regrouped: %s", report)


@app.task(name="workers.tasks.housekeeping_prune", ignore_result=True)
def housekeeping_prune() -> None:
    """Drop stored searches past their retention and upload files that never became an asset."""
    searches = search.searches_prune(older_than_days=settings.SEARCH_RETENTION_DAYS)
    files = assets.staging_prune(older_than_hours=settings.STAGING_RETENTION_HOURS)
    logger.info("housekeeping: pruned %d stored searches and %d unfinished upload files", searches, files)
