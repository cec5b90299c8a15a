"""POST/GET /api/briefs and picks over the indexed test-pattern library (demo model, real Postgres)."""

from __future__ import annotations

import pytest
from django.core.cache import caches

from mediahub.assets.services import asset_delete
from mediahub.briefs.models import Beat, Brief
from mediahub.search.models import Feedback, Search
from tests.search.test_search_api import matches

pytestmark = pytest.mark.django_db

EIGHT_BEATS_EN = [
    ("a red circle on a blue background", dict(shape="circle", colour="red", background="blue")),
    ("a yellow star on a black background", dict(shape="star", colour="yellow", background="black")),
    ("a white cross on a black background", dict(shape="cross", colour="white", background="black")),
    ("an orange diamond on a blue background", dict(shape="diamond", colour="orange", background="blue")),
    ("a green triangle on a purple background", dict(shape="triangle", colour="green", background="purple")),
    ("a yellow cross on a red background", dict(shape="cross", colour="yellow", background="red")),
    ("a blue square on a yellow background", dict(shape="square", colour="blue", background="yellow")),
    ("a purple triangle on an orange background", dict(shape="triangle", colour="purple", background="orange")),
]
EIGHT_BEATS_ZH = [
    ("蓝色背景上的红色圆形", EIGHT_BEATS_EN[0][1]), ("黑色背景上的黄色星形", EIGHT_BEATS_EN[1][1]),
    ("黑色背景上的白色十字", EIGHT_BEATS_EN[2][1]), ("蓝色背景上的橙色菱形", EIGHT_BEATS_EN[3][1]),
    ("紫色背景上的绿色三角形", EIGHT_BEATS_EN[4][1]), ("红色背景上的黄色十字", EIGHT_BEATS_EN[5][1]),
    ("黄色背景上的蓝色正方形", EIGHT_BEATS_EN[6][1]), ("橙色背景上的紫色三角形", EIGHT_BEATS_EN[7][1]),
]


def make_brief(api, text, **fields):
    response = api.post("/api/briefs", {"text": text, **fields}, format="json")
    assert response.status_code == 201, response.content
    return response.json()


def first_span(beat):
    top = beat["results"][0]
    return top["asset_id"], top["start"], top["end"]


@pytest.mark.parametrize("beats", [EIGHT_BEATS_EN, EIGHT_BEATS_ZH], ids=["english", "chinese"])
def test_a_brief_finds_each_beats_scene_first(viewer_api, library, beats):
    body = make_brief(viewer_api, "\n".join(text for text, _ in beats), title="Flood package")
    assert body["title"] == "Flood package"
    assert [beat["text"] for beat in body["beats"]] == [text for text, _ in beats]
    assert [beat["index"] for beat in body["beats"]] == list(range(len(beats)))
    for beat, (text, scene) in zip(body["beats"], beats):
        assert any(matches(first_span(beat), want) for want in library.ranges(**scene)), (text, beat["results"][:2])
        assert beat["pick"] is None and beat["weak"] is False and len(beat["results"]) <= 5
        assert beat["choice"] == beat["results"][0]


def test_a_stored_brief_reads_back_as_made(viewer_api, editor_api, library):
    made = make_brief(viewer_api, "A yellow star. A red circle.", per_beat=3)
    opened = editor_api.get(f"/api/briefs/{made['id']}")  # anyone may open it
    assert opened.status_code == 200
    assert opened.json()["beats"] == made["beats"]
    assert [b["text"] for b in made["beats"]] == ["A yellow star.", "A red circle."]
    assert all(len(b["results"]) <= 3 for b in made["beats"])
    listed = editor_api.get("/api/briefs").json()
    assert listed["count"] == 1 and listed["results"][0]["id"] == made["id"]


def test_beats_asking_for_one_scene_get_different_footage_when_the_library_has_alternatives(viewer_api, library):
    body = make_brief(viewer_api, "a red circle\na red circle")
    first, second = (first_span(beat) for beat in body["beats"])
    red_circles = library.ranges(shape="circle", colour="red")
    assert any(matches(first, want) for want in red_circles) and any(matches(second, want) for want in red_circles)
    assert first[0] != second[0]
    assert all(beat["shared_with"] == [] for beat in body["beats"])


def test_beats_asking_for_a_scene_with_no_alternative_share_it_and_say_so(viewer_api, library):
    harbour = library.assets["harbour.mp4"].pk
    body = make_brief(viewer_api, "a yellow star on a black background\nyellow star on black",
                      filters={"asset": harbour})
    first, second = (first_span(beat) for beat in body["beats"])
    star = library.ranges(shape="star", colour="yellow", background="black")
    assert matches(first, star[0]) and matches(second, star[0])
    assert [beat["shared_with"] for beat in body["beats"]] == [[1], [0]]


def test_the_brief_filters_apply_to_every_beat(viewer_api, library):
    council = library.assets["council.mp4"].pk
    body = make_brief(viewer_api, "a red circle\na white cross", filters={"asset": council})
    assert body["filters"] == {"asset": council}
    assert all(r["asset_id"] == council for beat in body["beats"] for r in beat["results"])


def test_a_beat_nothing_matches_is_weak(viewer_api, library):
    body = make_brief(viewer_api, "a yellow star\n天气预报")
    assert [beat["weak"] for beat in body["beats"]] == [False, True]


def test_a_pick_is_stored_and_counts_as_relevant_feedback_for_the_beat(viewer_api, library):
    body = make_brief(viewer_api, "a red circle")
    beat = body["beats"][0]
    second = beat["results"][1]
    picked = viewer_api.post(f"/api/briefs/{body['id']}/beats/0/pick",
                             {"asset_id": second["asset_id"], "start": second["start"], "end": second["end"]}, format="json")
    assert picked.status_code == 200, picked.content
    assert picked.json()["pick"]["asset_id"] == second["asset_id"] and picked.json()["choice"] == picked.json()["pick"]
    feedback = Feedback.objects.get()
    assert (feedback.action, feedback.asset_id, feedback.search.query) == ("relevant", second["asset_id"], "a red circle")
    lifted = viewer_api.get("/api/search", {"q": "a red circle"}).json()["results"][0]
    assert (lifted["asset_id"], lifted["start"]) == (second["asset_id"], second["start"])
    assert viewer_api.get(f"/api/briefs/{body['id']}").json()["beats"][0]["pick"] == picked.json()["pick"]


def test_any_range_of_any_asset_can_be_picked_and_an_image_is_a_still(viewer_api, library):
    body = make_brief(viewer_api, "a red circle\nsomething orange")
    storm, poster = library.assets["storm.mp4"].pk, library.assets["poster.png"].pk
    range_pick = viewer_api.post(f"/api/briefs/{body['id']}/beats/0/pick", {"asset_id": storm, "start": 2, "end": 3.5},
                                 format="json").json()["pick"]
    assert (range_pick["asset_id"], range_pick["start"], range_pick["end"], range_pick["score"]) == (storm, 2, 3.5, None)
    still = viewer_api.post(f"/api/briefs/{body['id']}/beats/1/pick", {"asset_id": poster, "start": 4, "end": 9},
                            format="json").json()["pick"]
    assert (still["start"], still["end"]) == (0, 0)


def test_taking_a_pick_back_takes_its_feedback_too(viewer_api, library):
    body = make_brief(viewer_api, "a red circle")
    top = body["beats"][0]["results"][0]
    viewer_api.post(f"/api/briefs/{body['id']}/beats/0/pick", {k: top[k] for k in ("asset_id", "start", "end")},
                    format="json")
    undone = viewer_api.delete(f"/api/briefs/{body['id']}/beats/0/pick")
    assert undone.status_code == 200 and undone.json()["pick"] is None
    assert not Feedback.objects.exists()


def test_editing_a_beat_searches_it_again(viewer_api, library):
    body = make_brief(viewer_api, "a red circle")
    edited = viewer_api.patch(f"/api/briefs/{body['id']}/beats/0", {"text": "a yellow star on a black background"},
                              format="json")
    assert edited.status_code == 200, edited.content
    assert edited.json()["text"] == "a yellow star on a black background"
    star = library.ranges(shape="star", colour="yellow", background="black")
    assert any(matches(first_span(edited.json()), want) for want in star)


def test_more_like_this_replaces_a_beats_results_with_lookalikes(viewer_api, library):
    body = make_brief(viewer_api, "a red circle")
    star = library.ranges(shape="star", colour="yellow", background="black")[0]
    similar = viewer_api.post(f"/api/briefs/{body['id']}/beats/0/similar",
                              {"asset_id": star[0], "time": star[1] + 2}, format="json")
    assert similar.status_code == 200, similar.content
    assert matches(first_span(similar.json()), star)
    assert similar.json()["similar_to"] == {"asset_id": star[0], "time": star[1] + 2}


def test_only_the_owner_changes_picks_in_renames_or_deletes_a_brief(viewer_api, editor_api, admin_api, library):
    body = make_brief(viewer_api, "a red circle")
    top = body["beats"][0]["results"][0]
    pick = {k: top[k] for k in ("asset_id", "start", "end")}
    url = f"/api/briefs/{body['id']}"
    for other in (editor_api, admin_api):
        assert other.get(url).status_code == 200
        for response in (other.delete(url), other.patch(url, {"title": "Mine now"}, format="json"),
                         other.post(f"{url}/beats/0/pick", pick, format="json"),
                         other.patch(f"{url}/beats/0", {"text": "a star"}, format="json")):
            assert response.status_code == 403, response.content
            assert "owner" in response.json()["detail"]
    assert Brief.objects.get().title == "a red circle" and not Feedback.objects.exists()
    renamed = viewer_api.patch(url, {"title": "Floods, day two"}, format="json")
    assert renamed.status_code == 200 and renamed.json()["title"] == "Floods, day two"
    assert viewer_api.delete(url).status_code == 204
    assert not Brief.objects.exists() and not Beat.objects.exists()
    assert viewer_api.get(url).status_code == 404


def test_signed_out_clients_get_401(anonymous_api, library):
    assert anonymous_api.post("/api/briefs", {"text": "a red circle"}, format="json").status_code == 401
    assert anonymous_api.get("/api/briefs").status_code == 401


@pytest.mark.parametrize("payload, says", [
    ({"text": ""}, "no text"),
    ({"text": " \n\n  "}, "no text"),
    ({}, "no text"),
    ({"text": "\n".join(f"shot {i}" for i in range(1000))}, "at most"),
    ({"text": "a red circle\n" + "flood " * 2000}, "Beat 2"),
    ({"text": "a red circle", "per_beat": 0}, "per_beat"),
    ({"text": "a red circle", "per_beat": 21}, "per_beat"),
    ({"text": "a red circle", "filters": {"tag": "no-such-tag"}}, "no tag"),
    ({"text": "a red circle", "filters": {"colour": "red"}}, "Unknown filter"),
    ({"text": "a red circle", "filters": {"after": "yesterday"}}, "ISO date"),
])
def test_bad_briefs_get_a_sentence_and_nothing_is_written(viewer_api, library, payload, says):
    searches = Search.objects.count()
    response = viewer_api.post("/api/briefs", payload, format="json")
    assert response.status_code == 400
    assert says in response.json()["detail"]
    assert not Brief.objects.exists() and Search.objects.count() == searches


def test_a_pick_on_a_deleted_asset_is_refused_and_changes_nothing(viewer_api, owner, library, tmp_path):
    from tests.library import ingest, scene
    from workers.ml.demo.video import write_world_video

    write_world_video(tmp_path / "gone.mp4", [scene("circle", "red", "blue", 3, 99)], fps=10, width=160, height=120)
    gone = ingest(tmp_path / "gone.mp4", "Soon deleted")
    gone_id = gone.pk
    body = make_brief(viewer_api, "a red circle")
    assert any(r["asset_id"] == gone_id for r in body["beats"][0]["results"])
    asset_delete(asset=gone)
    response = viewer_api.post(f"/api/briefs/{body['id']}/beats/0/pick", {"asset_id": gone_id, "start": 0, "end": 2},
                               format="json")
    assert response.status_code == 404 and "deleted" in response.json()["detail"], response.content
    beat = viewer_api.get(f"/api/briefs/{body['id']}").json()["beats"][0]
    assert beat["pick"] is None and beat["results"] and all(r["asset_id"] != gone_id for r in beat["results"])
    assert not Feedback.objects.exists()


@pytest.mark.parametrize("pick, says", [
    ({"asset_id": "one", "start": 0, "end": 1}, "asset_id must be a number"),
    ({"start": 0, "end": 1}, "asset_id must be a number"),
    ({"asset_id": None, "start": 5, "end": 1}, "asset_id"),
])
def test_bad_picks_get_a_sentence(viewer_api, library, pick, says):
    body = make_brief(viewer_api, "a red circle")
    response = viewer_api.post(f"/api/briefs/{body['id']}/beats/0/pick", pick, format="json")
    assert response.status_code == 400 and says in response.json()["detail"]


def test_a_pick_outside_the_asset_is_refused(viewer_api, library):
    body = make_brief(viewer_api, "a red circle")
    harbour = library.assets["harbour.mp4"]
    for start, end, says in ((5, 1, "start < end"), (harbour.duration + 1, harbour.duration + 3, "after the end")):
        response = viewer_api.post(f"/api/briefs/{body['id']}/beats/0/pick",
                                   {"asset_id": harbour.pk, "start": start, "end": end}, format="json")
        assert response.status_code == 400 and says in response.json()["detail"]
    assert viewer_api.post(f"/api/briefs/{body['id']}/beats/7/pick", {"asset_id": harbour.pk, "start": 0, "end": 1},
                           format="json").status_code == 404


def test_opening_a_brief_costs_the_same_queries_whatever_its_length(viewer_api, library, django_assert_max_num_queries):
    short = make_brief(viewer_api, "a red circle")
    long = make_brief(viewer_api, "\n".join(text for text, _ in EIGHT_BEATS_EN * 3))
    with django_assert_max_num_queries(8) as short_queries:
        viewer_api.get(f"/api/briefs/{short['id']}")
    with django_assert_max_num_queries(len(short_queries.captured_queries)):
        viewer_api.get(f"/api/briefs/{long['id']}")


def test_making_briefs_too_often_is_a_429_but_opening_them_is_not(viewer_api, library, settings):
    caches["throttle"].clear()
    settings.THROTTLE_RATES = {**settings.THROTTLE_RATES, "brief": "1/minute"}
    made = make_brief(viewer_api, "a red circle")
    refused = viewer_api.post("/api/briefs", {"text": "a yellow star"}, format="json")
    assert refused.status_code == 429 and "try again in" in refused.json()["detail"]
    assert Brief.objects.count() == 1
    for _ in range(3):
        assert viewer_api.get(f"/api/briefs/{made['id']}").status_code == 200
    caches["throttle"].clear()


def test_the_api_schema_describes_every_field_a_brief_answer_carries(viewer_api, library):
    made = make_brief(viewer_api, "a red circle")
    schema = viewer_api.get("/api/schema", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    for path in ("/api/briefs", "/api/briefs/{id}", "/api/briefs/{id}/export", "/api/briefs/{id}/beats/{index}",
                 "/api/briefs/{id}/beats/{index}/pick", "/api/briefs/{id}/beats/{index}/similar"):
        assert path in schema["paths"], path
    components = schema["components"]["schemas"]
    assert set(made) <= set(components["Brief"]["properties"])
    assert set(made["beats"][0]) <= set(components["BriefBeat"]["properties"])
    assert set(made["beats"][0]["results"][0]) <= set(components["BriefMoment"]["properties"])
