"""Search and shots: moments never run across a cut into a shot the query doesn't match, and shot
descriptions (generated and edited, English and Chinese) are one more signal of the fusion.

On generated test-pattern videos processed by the real pipeline (PyAV decode, the frames step's
cut detection, the demo model), searched through GET /api/search.
"""

from __future__ import annotations

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from mediahub.search import selectors
from mediahub.shots.models import Shot
from mediahub.shots.selectors import asset_shots
from mediahub.shots.services import shot_description_edit, shot_descriptions_save
from tests.library import Library, ingest, library_delete, scene
from workers.ml.demo.video import write_world_video

pytestmark = pytest.mark.django_db

EDGE_TOLERANCE = 1.0  # seconds: frames are sampled once a second

# The case: a red circle, then a purple circle and a red square on one background, where
# a moment grown across the cut picks up a "circle" tag on one side and a "red" tag on the other.
CUTS = [
    scene("circle", "red", "blue", 5, 41),
    scene("circle", "red", "green", 5, 42, x0=0.2),  # a second red circle right after a cut
    scene("circle", "purple", "white", 5, 43),
    scene("square", "red", "white", 5, 44, x0=-0.1),
    scene("star", "yellow", "black", 5, 45),
    scene("triangle", "green", "orange", 4, 46),
    scene("star", "yellow", "black", 5, 47, x0=0.15),
]


@pytest.fixture(scope="module")
def cuts(django_db_setup, django_db_blocker, tmp_path_factory) -> Library:
    folder = tmp_path_factory.mktemp("cuts")
    with django_db_blocker.unblock():
        truth = write_world_video(folder / "cuts.mp4", CUTS, fps=10, width=320, height=240)
        built = Library(assets={"cuts.mp4": ingest(folder / "cuts.mp4", "Newsroom test card")},
                        truth={"cuts.mp4": truth})
        yield built
        library_delete(built)


def search(api, q, **params):
    response = api.get("/api/search", {"q": q, "explain": 1, **params})
    assert response.status_code == 200, response.content
    return response.json()


def near(found: dict, start: float, end: float) -> bool:
    return abs(found["start"] - start) <= EDGE_TOLERANCE and abs(found["end"] - end) <= EDGE_TOLERANCE


def stored_shot_at(asset, time: float) -> Shot:
    return next(shot for shot in asset_shots(asset=asset) if shot.start <= time < shot.end)


def test_the_frames_step_found_the_cuts_search_relies_on(cuts):
    asset = cuts.assets["cuts.mp4"]
    starts = [shot.start for shot in asset_shots(asset=asset)]
    assert len(starts) == len(CUTS)
    for (start, _, _), found in zip(cuts.truth["cuts.mp4"], starts):
        assert abs(start - found) <= 0.5


def test_a_red_circle_returns_only_the_red_circles_shots(owner_api, cuts):
    asset = cuts.assets["cuts.mp4"]
    (blue_start, _, _), (_, green_end, _) = cuts.truth["cuts.mp4"][:2]
    purple_start, _, _ = cuts.truth["cuts.mp4"][2]
    results = search(owner_api, "a red circle", asset=asset.pk)["results"]
    top = results[0]
    # Both red circles, one after the other: a moment may span two shots that both match...
    assert near(top, blue_start, green_end), results
    assert top["end"] <= purple_start + 1e-3  # ...and stops exactly at the cut to the purple circle
    # ...and none of the answers spans the cut between the purple circle and the red square.
    square_start, _, _ = cuts.truth["cuts.mp4"][3]
    for found in results:
        assert not (found["start"] < square_start - EDGE_TOLERANCE and found["end"] > square_start + EDGE_TOLERANCE), found


def test_two_tags_each_on_one_side_of_a_cut_do_not_add_up(owner_api, cuts):
    asset = cuts.assets["cuts.mp4"]
    purple_start, purple_end, _ = cuts.truth["cuts.mp4"][2]
    results = search(owner_api, "a red circle", asset=asset.pk, limit=100)["results"]
    for found in results:
        if found["start"] >= purple_start - EDGE_TOLERANCE and found["end"] <= purple_end + EDGE_TOLERANCE:
            # The purple circle is tagged "circle", not "red": half the named tags at most.
            assert found["explain"]["tag_match"] <= 0.5 + 1e-6, found


def test_a_search_reads_shots_in_a_bounded_number_of_queries(owner_api, cuts, library):
    def queries(q):
        with CaptureQueriesContext(connection) as captured:
            search(owner_api, q, limit=100)
        return len(captured)

    queries("a green square")  # the per-process caches (the query background's frame sample) are filled once
    # Many moments over many assets cost no more queries than a handful in one.
    assert queries("circle") == queries("a red circle on a blue background")


def test_an_edited_description_is_found_at_once(owner_api, editor, cuts):
    asset = cuts.assets["cuts.mp4"]
    square_start, square_end, _ = cuts.truth["cuts.mp4"][3]
    shot = stored_shot_at(asset, square_start + 1)
    shot_description_edit(shot=shot, user=editor, texts={"en": "mayor at the podium"})
    body = search(owner_api, "mayor podium")
    top = body["results"][0]
    assert top["asset_id"] == asset.pk and (top["start"], top["end"]) == (shot.start, shot.end)
    assert top["explain"]["described_by_editor"] is True and top["explain"]["description_bonus"] > 0
    assert body["weak"] is False  # the editor's words are an answer, whatever the model sees


def test_an_edited_description_outranks_a_generated_one_with_the_same_words(owner_api, editor, cuts):
    asset = cuts.assets["cuts.mp4"]
    shots = asset_shots(asset=asset)
    first_star, _, _ = cuts.truth["cuts.mp4"][4]
    last_star, _, _ = cuts.truth["cuts.mp4"][6]
    generated, edited = stored_shot_at(asset, first_star + 1), stored_shot_at(asset, last_star + 1)
    words = "a yellow star over the harbour"
    shot_descriptions_save(asset=asset, descriptions=[{"en": words if s.pk == generated.pk else "", "zh": ""} for s in shots])
    shot_description_edit(shot=Shot.objects.get(pk=edited.pk), user=editor, texts={"en": words})
    # Both shots show a yellow star (alike to the model); the description's weight decides.
    results = search(owner_api, "a yellow star", asset=asset.pk)["results"]
    ranges = [(r["start"], r["end"]) for r in results]
    assert ranges[:2] == [(edited.start, edited.end), (generated.start, generated.end)], results
    explained = [r["explain"] for r in results[:2]]
    assert explained[0]["description_bonus"] > explained[1]["description_bonus"] > 0
    assert abs(explained[0]["visual"] - explained[1]["visual"]) < explained[0]["description_bonus"] - explained[1]["description_bonus"]


def test_a_chinese_query_matches_a_chinese_description(owner_api, editor, cuts):
    asset = cuts.assets["cuts.mp4"]
    triangle_start, _, _ = cuts.truth["cuts.mp4"][5]
    shot = stored_shot_at(asset, triangle_start + 1)
    shot_description_edit(shot=shot, user=editor, texts={"zh": "市长在讲台上讲话"})
    body = search(owner_api, "市长在讲台")
    top = body["results"][0]
    assert (top["asset_id"], top["start"], top["end"]) == (asset.pk, shot.start, shot.end)
    assert body["weak"] is False


def test_generated_chinese_descriptions_match_a_chinese_query(owner_api, cuts):
    asset = cuts.assets["cuts.mp4"]
    blue, green, purple = cuts.truth["cuts.mp4"][:3]
    # The pipeline's own descriptions ("蓝色背景上的红色圆形"): the red circles' shots match, the purple circle's doesn't.
    assert "红色圆形" in stored_shot_at(asset, blue[0] + 1).description("zh")
    results = search(owner_api, "红色圆形", asset=asset.pk, limit=100)["results"]
    top = results[0]
    assert near(top, blue[0], green[1])
    assert top["explain"]["description_match"] > 0 and top["explain"]["described_by_editor"] is False
    for found in results:
        if near(found, purple[0], purple[1]):
            assert found["explain"]["description_match"] == 0


def test_an_asset_without_stored_shots_still_searches_as_before(owner_api, library):
    council = library.assets["council.mp4"]
    Shot.objects.filter(asset=council).delete()  # indexed before shots were stored (rolled back after the test)
    body = search(owner_api, "a red circle", asset=council.pk)
    [(start, end)] = [(s, e) for a, s, e in library.ranges(shape="circle", colour="red") if a == council.pk]
    assert near(body["results"][0], start, end)
    assert body["weak"] is False


@pytest.mark.parametrize("query", ["mayor podium", "市长"])
def test_every_arm_of_the_description_match_can_use_an_index(query):
    sql, params = selectors.shot_description_query(query=query, filters=selectors.SearchFilters())
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")  # a tiny table is cheaper to scan; can the indexes serve it?
        cursor.execute("EXPLAIN " + sql, params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "shot_text_fts" in plan and "shot_text_trgm" in plan
    assert "Seq Scan" not in plan
