"""Video DNA through the real pipeline (in-process, demo model): an excerpt re-encoded at half size
inside an unrelated video is listed on both assets with aligned ranges; unrelated footage is not;
deleting and reprocessing; the check endpoint finds the source and stores nothing."""

import pytest

from mediahub.assets.models import Asset
from mediahub.assets.services import asset_delete, asset_reprocess, rights_policy_update
from mediahub.copies.models import Fingerprint, FrameHash, Match
from tests.copies.clips import BIKES, BUNNY, CARPHONE, excerpt
from tests.library import ingest
from workers.pipeline import EMBED_STEP, pipeline_signature

BUNNY_SECONDS = 5.28  # the piece starts with all of bigbuckbunny, then bikes 4–10 s
# (bikes' first 4.4 s are a fast pan: its PDQ hashes change by ~120 of 256 bits every third of a
# second, so a copy sampled at another phase matches there only in part; README, Video DNA)


def run_pipeline(asset: Asset, first_step: str = "asset_probe") -> Asset:
    asset.refresh_from_db()
    pipeline_signature(asset_id=asset.pk, run_id=asset.run_id, first_step=first_step).apply()
    asset.refresh_from_db()
    assert asset.status == "ready", asset.error
    return asset


def iou(a: tuple[float, float], b: tuple[float, float]) -> float:
    overlap = max(0.0, min(a[1], b[1]) - max(a[0], b[0]))
    return overlap / (max(a[1], b[1]) - min(a[0], b[0]))


@pytest.fixture
def library(db, tmp_path):
    """The source (bikes), a news piece holding its last 6 s after unrelated footage, and an unrelated clip."""
    source = ingest(BIKES, "Bikes, original")
    piece = ingest(excerpt(tmp_path / "piece.mp4", start=4.0, end=10.0, after=BUNNY), "Evening news piece")
    unrelated = ingest(CARPHONE, "Car phone")
    return {"source": source, "piece": piece, "unrelated": unrelated}


def copies_of(api, asset: Asset) -> list[dict]:
    response = api.get(f"/api/assets/{asset.pk}/copies")
    assert response.status_code == 200, response.content
    return response.json()["copies"]


def test_an_excerpt_inside_another_video_is_listed_on_both_assets_with_aligned_ranges(viewer_api, library):
    source, piece, unrelated = library["source"], library["piece"], library["unrelated"]

    [on_piece] = copies_of(viewer_api, piece)
    assert on_piece["asset_id"] == source.pk and on_piece["title"] == "Bikes, original"
    assert 0 < on_piece["score"] <= 1
    [on_source] = copies_of(viewer_api, source)  # symmetric: the same ranges seen from the source
    assert on_source["asset_id"] == piece.pk and on_source["score"] == on_piece["score"]
    assert [(s["other_start"], s["other_end"], s["start"], s["end"]) for s in on_source["segments"]] == [
        (s["start"], s["end"], s["other_start"], s["other_end"]) for s in on_piece["segments"]]
    assert copies_of(viewer_api, unrelated) == []

    [segment] = on_piece["segments"]
    assert segment["other_start"] - segment["start"] == pytest.approx(4.0 - BUNNY_SECONDS, abs=0.5)
    assert iou((segment["start"], segment["end"]), (BUNNY_SECONDS, BUNNY_SECONDS + 6)) >= 0.8
    assert iou((segment["other_start"], segment["other_end"]), (4.0, 10.0)) >= 0.8


def test_deleting_an_asset_removes_its_copies_from_the_other(viewer_api, library):
    asset_delete(asset=library["piece"])
    assert copies_of(viewer_api, library["source"]) == []
    assert not Match.objects.exists()
    assert not Fingerprint.objects.filter(asset_id=library["piece"].pk).exists()


def test_reprocessing_either_asset_yields_the_same_copies(viewer_api, library):
    before = {name: copies_of(viewer_api, library[name]) for name in ("source", "piece")}
    for name in ("source", "piece"):
        run_pipeline(asset_reprocess(asset=library[name]))
        assert {name: copies_of(viewer_api, library[name]) for name in ("source", "piece")} == before
    hashes = FrameHash.objects.count()
    run_pipeline(asset_reprocess(asset=library["source"], first_step=EMBED_STEP), first_step=EMBED_STEP)
    assert {name: copies_of(viewer_api, library[name]) for name in ("source", "piece")} == before
    assert FrameHash.objects.count() == hashes  # a re-embedding keeps the fingerprint


def _row_counts() -> tuple[int, ...]:
    return tuple(model.objects.count() for model in (Asset, Fingerprint, FrameHash, Match))


def test_checking_a_clip_finds_its_source_and_stores_nothing(viewer_api, library, tmp_path, settings):
    clip = excerpt(tmp_path / "suspect.mp4", start=2.0, end=8.0)
    counts = _row_counts()
    staged_before = set((settings.DATA_DIR / "staging").glob("check-*"))
    with open(clip, "rb") as handle:
        response = viewer_api.post("/api/copies/check", {"file": handle}, format="multipart")
    assert response.status_code == 200, response.content
    found = {copy["asset_id"]: copy for copy in response.json()["copies"]}
    assert library["unrelated"].pk not in found
    [segment] = found[library["source"].pk]["segments"]
    assert iou((segment["start"], segment["end"]), (0.0, 6.0)) >= 0.8
    assert iou((segment["other_start"], segment["other_end"]), (2.0, 8.0)) >= 0.8
    assert _row_counts() == counts
    assert set((settings.DATA_DIR / "staging").glob("check-*")) == staged_before


def test_a_check_by_a_viewer_leaves_out_footage_the_rights_policy_hides(viewer_api, editor_api, library, tmp_path):
    Asset.objects.filter(pk=library["source"].pk).update(rights_status=Asset.Rights.DO_NOT_USE)
    rights_policy_update(user=None, viewers_see_embargoed=True, viewers_see_do_not_use=False)
    clip = excerpt(tmp_path / "suspect.mp4", start=2.0, end=8.0)
    found = {}
    for role, api in (("viewer", viewer_api), ("editor", editor_api)):
        with open(clip, "rb") as handle:
            found[role] = {copy["asset_id"] for copy in api.post("/api/copies/check", {"file": handle},
                                                                  format="multipart").json()["copies"]}
    assert library["source"].pk in found["editor"] and library["source"].pk not in found["viewer"]
    assert found["viewer"] == found["editor"] - {library["source"].pk}  # the piece holding it is still found


@pytest.mark.parametrize(("name", "content"), [("notes.txt", b"not a video at all\n" * 40),
                                               ("empty.mp4", b""), ("broken.mp4", b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 64)])
def test_a_file_that_is_not_media_is_refused_with_a_sentence(viewer_api, tmp_path, name, content):
    path = tmp_path / name
    path.write_bytes(content)
    with open(path, "rb") as handle:
        response = viewer_api.post("/api/copies/check", {"file": handle}, format="multipart")
    assert response.status_code == 400
    detail = response.json()["detail"]
    assert isinstance(detail, str) and detail.endswith(".") and len(detail.split()) >= 5


def test_a_check_without_a_file_or_over_the_limit_says_what_to_do(viewer_api, tmp_path, settings):
    assert "multipart field 'file'" in viewer_api.post("/api/copies/check", {}, format="multipart").json()["detail"]
    settings.COPY_CHECK_MAX_BYTES = 1024
    with open(BIKES, "rb") as handle:
        response = viewer_api.post("/api/copies/check", {"file": handle}, format="multipart")
    assert response.status_code == 413
    assert "Cut the part you want to check" in response.json()["detail"]


def test_copies_need_a_signed_in_user_and_every_role_may_check(anonymous_api, viewer_api, owner, client, viewer):
    asset = Asset.objects.create(title="x", owner=owner, kind="video", original="originals/x.mp4",
                                 original_filename="x.mp4", sha256="0" * 64, size_bytes=1)
    assert anonymous_api.get(f"/api/assets/{asset.pk}/copies").status_code == 401
    assert anonymous_api.post("/api/copies/check", {}, format="multipart").status_code == 401
    assert viewer_api.get(f"/api/assets/{asset.pk}/copies").json() == {"copies": []}
    assert viewer_api.get("/api/assets/999999/copies").status_code == 404
    response = client.get("/copies/check/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    client.force_login(viewer)
    page = client.get("/copies/check/")
    assert page.status_code == 200 and b'enctype="multipart/form-data"' in page.content
    assert b"csrfmiddlewaretoken" in page.content


def test_two_copies_ingested_at_the_same_time_find_each_other_once_and_a_rerun_changes_nothing(db, tmp_path):
    """Both store their fingerprints before either searches (the frames step comes first); then each
    copies step runs, twice for the second (a redelivery): one pair, stored both ways."""
    from mediahub.assets.services import asset_create
    from workers import tasks

    paths = [excerpt(tmp_path / "a.mp4", start=0.0, end=8.0), excerpt(tmp_path / "b.mp4", start=2.0, end=10.0)]
    assets = []
    for path in paths:
        with open(path, "rb") as source:
            assets.append(asset_create(source=source, filename=path.name, owner=None).asset)
    for step in (tasks.asset_probe, tasks.asset_sample_frames):
        for asset in assets:
            step.apply(args=(asset.pk, str(asset.run_id)))
    assert not Match.objects.exists()
    for asset in (*assets, assets[1]):
        tasks.asset_copies.apply(args=(asset.pk, str(asset.run_id)))
    rows = sorted(Match.objects.values_list("asset_id", "other_id"))
    assert rows == sorted([(assets[0].pk, assets[1].pk), (assets[1].pk, assets[0].pk)])
    [segment] = Match.objects.get(asset=assets[0]).segments
    assert iou((segment["start"], segment["end"]), (2.0, 8.0)) >= 0.8
    assert segment["other_start"] - segment["start"] == pytest.approx(-2.0, abs=0.5)


@pytest.mark.parametrize("edit", ["flipped", "letterbox", "grayscale"])
def test_the_check_finds_edited_copies_flipped_ones_as_flipped(viewer_api, db, tmp_path, edit):
    from tests import dna_edits

    source = ingest(BIKES, "Bikes, original")
    truth = dna_edits.REQUIRED[edit](dna_edits.read_clip(BIKES), tmp_path / f"{edit}.mp4")
    with open(tmp_path / f"{edit}.mp4", "rb") as handle:
        response = viewer_api.post("/api/copies/check", {"file": handle}, format="multipart")
    [copy] = response.json()["copies"]
    assert copy["asset_id"] == source.pk
    best = max(copy["segments"], key=lambda s: s["end"] - s["start"])
    assert iou((best["start"], best["end"]), (truth.start, truth.end)) >= 0.8
    assert iou((best["other_start"], best["other_end"]), (truth.source_start, truth.source_end)) >= 0.8
    assert best["flipped"] is (edit == "flipped")


def test_a_cropped_copy_is_found_through_clip_and_a_lookalike_is_not(viewer_api, db, tmp_path):
    """A copy cropped by 10 % drifts past the index's candidate distance in every frame; the CLIP
    route proposes its source (and the lookalike, with the same shapes and colours), and alignment
    of the centre views keeps only the source."""
    from tests import dna_edits
    from tests.workers.test_dna import LOOKALIKE, SOURCE
    from workers.ml.demo.video import write_world_video

    write_world_video(tmp_path / "source.mp4", SOURCE, fps=25, width=320, height=240)
    write_world_video(tmp_path / "lookalike.mp4", LOOKALIKE, fps=25, width=320, height=240)
    source, lookalike = ingest(tmp_path / "source.mp4", "Source"), ingest(tmp_path / "lookalike.mp4", "Lookalike")
    truth = dna_edits.cropped(0.10)(dna_edits.read_clip(tmp_path / "source.mp4"), tmp_path / "crop.mp4")
    cropped = ingest(tmp_path / "crop.mp4", "Cropped for social")

    [copy] = copies_of(viewer_api, cropped)
    assert copy["asset_id"] == source.pk
    assert iou((copy["segments"][0]["start"], copy["segments"][0]["end"]), (truth.start, truth.end)) >= 0.8
    assert [c["asset_id"] for c in copies_of(viewer_api, source)] == [cropped.pk]
    assert copies_of(viewer_api, lookalike) == []
