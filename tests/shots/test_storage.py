"""Shots through the pipeline with the demo model: stored covering the asset, described in both
languages, and an editor's correction kept across a reprocess."""

import pytest

from mediahub.assets.models import Asset
from mediahub.assets.services import asset_reprocess
from mediahub.shots.models import Shot
from mediahub.shots.services import shot_description_edit
from tests.workers.test_pipeline import create, run_pipeline
from workers.ml.demo.edit import CUT, DISSOLVE, Transition, write_edited_video
from workers.ml.demo.world import Scene

SCENES = [Scene("circle", "red", "blue", 4, seed=1), Scene("square", "green", "white", 4, seed=2),
          Scene("star", "yellow", "black", 4, seed=3)]


@pytest.fixture
def edited_video(tmp_path):
    path = tmp_path / "three shots.mp4"
    write_edited_video(path, SCENES, [Transition(CUT), Transition(DISSOLVE, 1.0)], fps=25, width=320, height=240)
    return path


def shots_of(asset) -> list[Shot]:
    return list(Shot.objects.filter(asset=asset).order_by("index"))


@pytest.mark.django_db
def test_a_video_is_cut_into_described_shots_that_cover_it(edited_video):
    asset = run_pipeline(create(edited_video))
    assert asset.status == "ready"
    shots = shots_of(asset)
    assert [round(s.start) for s in shots] == [0, 4, 8]
    assert shots[0].start == 0.0 and shots[-1].end == pytest.approx(asset.duration)
    assert all(a.end == b.start for a, b in zip(shots, shots[1:]))  # no gaps, no overlaps
    assert [s.description("en") for s in shots] == [
        "A red circle on a blue background.", "A green square on a white background.",
        "A yellow star on a black background."]
    assert [s.description("zh") for s in shots] == ["蓝色背景上的红色圆形。", "白色背景上的绿色正方形。", "黑色背景上的黄色星形。"]
    assert all(s.thumbnail_index is not None and s.start <= s.thumbnail_index < s.end for s in shots)


@pytest.mark.django_db
def test_an_image_is_one_described_shot(tmp_path):
    from workers.ml.demo.video import write_world_image

    path = tmp_path / "still.jpg"
    write_world_image(path, Scene(shape="star", colour="yellow", background="purple", duration=1, seed=9))
    asset = run_pipeline(create(path))
    [shot] = shots_of(asset)
    assert (shot.start, shot.end, shot.thumbnail_index) == (0.0, 0.0, 0)
    assert shot.descriptions == {"en": "A yellow star on a purple background.", "zh": "紫色背景上的黄色星形。"}


@pytest.mark.django_db
def test_an_edited_description_survives_a_reprocess_and_the_others_are_generated_again(edited_video, editor):
    asset = run_pipeline(create(edited_video))
    second = shots_of(asset)[1]
    shot_description_edit(shot=second, user=editor, texts={"en": "The mayor's green sign outside city hall"})
    asset = run_pipeline(asset_reprocess(asset=asset))
    shots = shots_of(asset)
    assert len(shots) == 3 and shots[1].pk != second.pk  # new rows...
    assert shots[1].description("en") == "The mayor's green sign outside city hall"  # ...the correction kept
    assert shots[1].edited and shots[1].edited_by == editor
    assert shots[1].description("zh") == "白色背景上的绿色正方形。"  # not corrected in Chinese: generated
    assert not shots[0].edited and shots[0].description("en") == "A red circle on a blue background."


@pytest.mark.django_db
def test_describing_twice_gives_the_same_shots(edited_video):
    from workers import tasks

    asset = run_pipeline(create(edited_video))
    before = [(s.start, s.end, s.descriptions) for s in shots_of(asset)]
    Asset.objects.filter(pk=asset.pk).update(status="processing")  # as on a redelivery mid-run
    tasks.asset_describe_shots.apply(args=(asset.pk, str(asset.run_id)))
    assert [(s.start, s.end, s.descriptions) for s in shots_of(asset)] == before


@pytest.mark.django_db
def test_a_correction_of_a_shot_a_reprocess_replaced_is_refused_not_brought_back(edited_video, editor):
    from mediahub.shots.services import ShotStale

    asset = run_pipeline(create(edited_video))
    stale = shots_of(asset)[1]
    asset = run_pipeline(asset_reprocess(asset=asset))
    with pytest.raises(ShotStale, match="reload"):
        shot_description_edit(shot=stale, user=editor, texts={"en": "Flood"})
    assert len(shots_of(asset)) == 3 and not any(s.edited for s in shots_of(asset))
