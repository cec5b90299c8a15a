"""The ingest pipeline run in-process with the demo model: rows, files, tags, idempotency, failures."""

import numpy as np
import pytest
from celery.exceptions import SoftTimeLimitExceeded
from django.core.files.storage import default_storage
from django.core.management import call_command

from mediahub.assets.models import Asset, AssetTag, Frame, TagLabel
from mediahub.assets.services import (asset_create, asset_reprocess, asset_step_begin, asset_step_end,
                                      assets_requeue_stalled)
from mediahub.search.models import EmbeddingModel, FrameEmbedding
from tests.media_files import constant_rate_times, truncated_copy, write_frames
from workers import tasks
from workers.pipeline import FRAMES_STEP, pipeline_signature
from workers.scratch import ScratchFull


def create(path, owner=None) -> Asset:
    with open(path, "rb") as source:
        return asset_create(source=source, filename=path.name, owner=owner).asset


def run_pipeline(asset: Asset, first_step: str = "asset_probe") -> Asset:
    asset.refresh_from_db()
    pipeline_signature(asset_id=asset.pk, run_id=asset.run_id, first_step=first_step).apply()
    asset.refresh_from_db()
    return asset


def tag_ranges(asset: Asset) -> dict[str, list[tuple[float, float]]]:
    ranges: dict[str, list] = {}
    for tag in AssetTag.objects.filter(asset=asset).select_related("label").order_by("start"):
        ranges.setdefault(tag.label.name, []).append((tag.start, tag.end))
    return ranges


def snapshot(asset: Asset) -> tuple:
    frames = list(Frame.objects.filter(asset=asset).order_by("index").values_list("pk", "index", "time", "image"))
    vectors = list(FrameEmbedding.objects.filter(asset=asset).order_by("time").values_list("frame_id", "model_id", "embedding"))
    tags = list(AssetTag.objects.filter(asset=asset).order_by("start", "label_id").values_list("label__name", "start", "end", "score"))
    return frames, [(f, m, np.round(np.asarray(v), 5).tolist()) for f, m, v in vectors], tags


@pytest.mark.django_db
def test_a_new_upload_needs_no_probe_step_and_a_reprocess_probes_again(two_scene_video):
    # The upload probed the file and stored what it found, so its pipeline starts at the frames (with
    # object storage that spares a download of the whole original); a reprocess reads the file anew.
    asset = create(two_scene_video)
    probed = (asset.kind, asset.width, asset.height, asset.duration, asset.fps, asset.codec)
    asset = run_pipeline(asset, first_step=FRAMES_STEP)
    assert asset.status == "ready" and Frame.objects.filter(asset=asset).count() == 6
    assert (asset.kind, asset.width, asset.height, asset.duration, asset.fps, asset.codec) == probed
    Asset.objects.filter(pk=asset.pk).update(width=1, height=1, duration=None)
    asset_reprocess(asset=asset)
    asset = run_pipeline(asset)
    assert (asset.kind, asset.width, asset.height, asset.duration, asset.fps, asset.codec) == probed


@pytest.mark.django_db
def test_a_video_becomes_ready_with_per_second_frames_vectors_thumbnails_and_tags(two_scene_video):
    asset = run_pipeline(create(two_scene_video))
    assert (asset.status, asset.progress, asset.error) == ("ready", 1.0, None)
    frames = list(Frame.objects.filter(asset=asset).order_by("index"))
    assert [f.index for f in frames] == [0, 1, 2, 3, 4, 5]
    assert all(default_storage.exists(f.image) for f in frames)
    assert asset.poster_index == 2
    embeddings = FrameEmbedding.objects.filter(asset=asset)
    assert embeddings.count() == 6
    model = EmbeddingModel.objects.get()
    assert model.key.startswith("mediahub-demo@file:") and model.dim == 128
    assert all(len(e.embedding) == 128 and abs(np.linalg.norm(e.embedding) - 1) < 1e-3 for e in embeddings)
    ranges = tag_ranges(asset)
    assert ranges["circle"] == [(0.0, 3.0)] and ranges["red"] == [(0.0, 3.0)]
    assert ranges["square"] == [(3.0, 6.0)] and ranges["green"] == [(3.0, 6.0)]
    assert not {"triangle", "star", "purple", "crowd", "fire"} & set(ranges)


@pytest.mark.django_db
def test_running_the_pipeline_again_gives_the_same_rows(two_scene_video):
    asset = run_pipeline(create(two_scene_video))
    first = snapshot(asset)
    asset = run_pipeline(asset_reprocess(asset=asset))
    assert asset.status == "ready"
    assert snapshot(asset) == first


@pytest.mark.django_db
def test_each_task_is_idempotent_when_called_twice(two_scene_video):
    asset = run_pipeline(create(two_scene_video))
    Asset.objects.filter(pk=asset.pk).update(status="processing")
    before = snapshot(asset)
    for task in (tasks.asset_sample_frames, tasks.asset_embed_frames, tasks.asset_tag):
        task.apply(args=(asset.pk, str(asset.run_id)))
        task.apply(args=(asset.pk, str(asset.run_id)))
    assert snapshot(asset) == before


@pytest.mark.django_db
def test_a_vocabulary_edit_takes_effect_on_the_next_asset(two_scene_video):
    first = run_pipeline(create(two_scene_video))
    assert "circle" in tag_ranges(first)
    TagLabel.objects.filter(name="circle").update(enabled=False)
    TagLabel.objects.create(vocabulary="demo", name="ball", name_zh="球", group="shape", prompts="circle\na circle")
    retagged = run_pipeline(asset_reprocess(asset=first), first_step="asset_tag")  # a new run, tags only
    assert "circle" not in tag_ranges(retagged)
    assert tag_ranges(retagged)["ball"] == [(0.0, 3.0)]


@pytest.mark.django_db
def test_an_image_goes_through_the_same_path_as_one_frame(tmp_path):
    from workers.ml.demo.video import write_world_image
    from workers.ml.demo.world import Scene

    path = tmp_path / "still.jpg"
    write_world_image(path, Scene(shape="star", colour="yellow", background="purple", duration=1, seed=9))
    asset = run_pipeline(create(path))
    assert (asset.status, asset.kind) == ("ready", "image")
    assert list(Frame.objects.filter(asset=asset).values_list("index", "time")) == [(0, 0.0)]
    assert tag_ranges(asset)["star"] == [(0.0, 0.0)]
    assert tag_ranges(asset)["yellow"] == [(0.0, 0.0)]


@pytest.mark.django_db
def test_a_truncated_video_is_ready_for_its_decodable_part_and_says_what_is_missing(tmp_path):
    # A streamable MP4 (index first) cut off half-way, as an interrupted copy leaves it.
    whole = write_frames(tmp_path / "whole.mp4", constant_rate_times(8), container_options={"movflags": "faststart"})
    asset = run_pipeline(create(truncated_copy(whole, tmp_path / "cut.mp4", 0.5)))
    assert asset.status == "ready"
    assert "of 8.0 s could be decoded" in asset.error and "truncated or damaged" in asset.error
    assert 2 <= Frame.objects.filter(asset=asset).count() <= 6


@pytest.mark.django_db
def test_when_the_model_cannot_be_loaded_the_asset_fails_with_the_reason_and_keeps_the_rest(
        two_scene_video, settings, offline):
    settings.CLIP_MODEL, settings.CLIP_PRETRAINED = "ViT-B-32", "laion2b_s34b_b79k"
    asset = run_pipeline(create(two_scene_video))
    assert asset.status == "failed"
    assert "ViT-B-32" in asset.error and "laion2b_s34b_b79k" in asset.error
    assert "MEDIAHUB_CLIP_PRETRAINED" in asset.error
    assert Frame.objects.filter(asset=asset).count() == 6  # thumbnails and playback still work
    assert default_storage.exists(asset.original.name)  # the upload is kept


@pytest.mark.django_db
def test_a_superseded_run_stops_without_touching_the_new_one(two_scene_video):
    asset = create(two_scene_video)
    old_run = str(asset.run_id)
    asset_reprocess(asset=asset)
    tasks.asset_probe.apply(args=(asset.pk, old_run))
    asset.refresh_from_db()
    assert (asset.status, asset.stage) == ("queued", "")


@pytest.mark.django_db
def test_a_deleted_asset_stops_its_pipeline_quietly(two_scene_video):
    asset = create(two_scene_video)
    asset_id, run_id = asset.pk, str(asset.run_id)
    Asset.objects.filter(pk=asset_id).delete()
    result = tasks.asset_probe.apply(args=(asset_id, run_id))
    assert result.state == "IGNORED"


@pytest.mark.django_db
def test_an_unexpected_error_fails_the_asset_with_a_sentence_and_keeps_the_upload(two_scene_video, monkeypatch):
    asset = create(two_scene_video)

    def broken(*args, **kwargs):
        raise ValueError("simulated bug")

    monkeypatch.setattr(tasks, "encode_jpeg", broken)
    with pytest.raises(ValueError):  # run eagerly, the task's exception reaches the caller too
        run_pipeline(asset)
    asset.refresh_from_db()
    assert asset.status == "failed"
    assert "'frames' step" in asset.error and "Reprocess" in asset.error
    assert default_storage.exists(asset.original.name)


@pytest.mark.django_db
def test_a_full_scratch_disk_leaves_the_asset_waiting_with_a_sentence_until_it_starts_again(
        two_scene_video, monkeypatch, settings):
    """Not the asset's fault: it stays unfinished (the stalled-asset sweep starts it again), and its page
    says what it waits for; the new run clears that."""
    asset = create(two_scene_video)

    def full(*args, **kwargs):
        raise ScratchFull(settings.SCRATCH_DIR)

    monkeypatch.setattr(tasks, "scratch_folder", full)
    monkeypatch.setattr(tasks.asset_sample_frames, "max_retries", 0)  # the worker retries with backoff first
    with pytest.raises(ScratchFull):  # run eagerly, the task's exception reaches the caller too
        run_pipeline(asset)
    asset.refresh_from_db()
    assert asset.status == "processing"
    assert asset.error.startswith("Waiting at the 'frames' step: The scratch dir")
    assert "MEDIAHUB_SCRATCH_DIR" in asset.error and "starts again by itself" in asset.error
    assert default_storage.exists(asset.original.name)
    monkeypatch.undo()
    asset = run_pipeline(asset_reprocess(asset=asset))  # what the sweep does
    assert (asset.status, asset.error) == ("ready", None)


@pytest.mark.django_db
def test_a_step_past_its_time_limit_fails_the_asset_with_a_sentence(two_scene_video, monkeypatch):
    asset = create(two_scene_video)

    def too_slow(*args, **kwargs):
        raise SoftTimeLimitExceeded()  # what the worker raises inside a step at its soft time limit

    monkeypatch.setattr(tasks, "sample_video", too_slow)
    run_pipeline(asset)
    asset.refresh_from_db()
    assert asset.status == "failed"
    assert "'frames' step ran longer than its limit" in asset.error and "MEDIAHUB_TASK_TIME_LIMIT" in asset.error
    assert default_storage.exists(asset.original.name)
    assert tasks.asset_sample_frames.soft_time_limit < tasks.asset_sample_frames.time_limit


@pytest.mark.django_db
def test_reembed_with_another_model_adds_its_vectors_and_prune_drops_the_old(two_scene_video, settings):
    asset = run_pipeline(create(two_scene_video))
    # Five newsroom labels to tag with: all of them take a real-sized text tower ~20 s to embed on this machine.
    newsroom = TagLabel.objects.filter(vocabulary=TagLabel.Vocabulary.NEWSROOM).order_by("pk")
    newsroom.exclude(pk__in=list(newsroom.values_list("pk", flat=True)[:5])).update(enabled=False)
    settings.CLIP_MODEL, settings.CLIP_PRETRAINED = "ViT-S-32", "random"
    call_command("reembed", "--prune")
    asset = run_pipeline(asset, first_step="asset_embed_frames")
    assert asset.status == "ready"
    model = EmbeddingModel.objects.get(key="ViT-S-32@random")
    assert FrameEmbedding.objects.filter(asset=asset, model=model).count() == 6
    assert model.dim == 384  # its own size, not the demo model's
    assert not FrameEmbedding.objects.exclude(model=model).exists()


@pytest.mark.django_db
def test_only_steps_that_never_ended_count_towards_failing_a_file_that_kills_its_worker(two_scene_video):
    """A step that raised ends like one that returned; one whose worker was killed never ends, and its next
    start says so. The sweep's new run keeps counting; a user's reprocess starts from nothing."""
    asset = create(two_scene_video)
    run = str(asset.run_id)
    for _ in range(5):  # begun and ended (returned, raised, retried): never a crash
        assert asset_step_begin(asset_id=asset.pk, run_id=run, stage="frames", progress=0.05) is not None
        asset_step_end(asset_id=asset.pk, run_id=run)
    asset_step_begin(asset_id=asset.pk, run_id=run, stage="frames", progress=0.05)  # killed: never ended
    assert assets_requeue_stalled(runs=[(asset.pk, run)]) == [asset.pk]
    asset.refresh_from_db()
    run = str(asset.run_id)
    for _ in range(2):  # killed twice more (redelivered)
        assert asset_step_begin(asset_id=asset.pk, run_id=run, stage="probe", progress=0.02) is not None
    assert asset_step_begin(asset_id=asset.pk, run_id=run, stage="probe", progress=0.02) is None
    asset.refresh_from_db()
    assert asset.status == "failed" and "'probe' step" in asset.error and "killed 3 times" in asset.error
    assert run_pipeline(asset_reprocess(asset=asset)).status == "ready"
