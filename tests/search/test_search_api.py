"""GET /api/search, query by image and "more like this" on a real indexed library (demo model, pgvector)."""

from __future__ import annotations

import datetime as dt
import io

import pytest

from mediahub.search.models import Search
from workers.ml.demo.video import write_world_image
from workers.ml.demo.world import Scene

pytestmark = pytest.mark.django_db

BOUNDARY_TOLERANCE = 1.0  # seconds: frames are sampled once a second


def search(api, q, **params):
    response = api.get("/api/search", {"q": q, **params})
    assert response.status_code == 200, response.content
    return response.json()


def spans(body, n=None):
    return [(r["asset_id"], r["start"], r["end"]) for r in body["results"][:n]]


def matches(found, expected) -> bool:
    asset, start, end = found
    return (asset == expected[0] and abs(start - expected[1]) <= BOUNDARY_TOLERANCE
            and abs(end - expected[2]) <= BOUNDARY_TOLERANCE)


def assert_top_are(body, expected: list[tuple[int, float, float]]):
    """The top len(expected) moments are exactly the expected scenes, edges within a second."""
    top = spans(body, len(expected))
    assert len(top) == len(expected), body
    for want in expected:
        assert any(matches(found, want) for found in top), f"{want} not in top {top}"


@pytest.mark.parametrize("query", ["a red circle", "red circle", "红色圆形", "something red"])
def test_colour_and_shape_queries_find_exactly_the_matching_scenes(owner_api, library, query):
    body = search(owner_api, query)
    assert_top_are(body, library.ranges(shape="circle", colour="red"))
    assert body["weak"] is False and body["notice"] is None


@pytest.mark.parametrize("query", ["a red circle on a blue background", "蓝色背景上的红色圆形"])
def test_a_named_background_picks_the_one_scene_with_it(owner_api, library, query):
    assert_top_are(search(owner_api, query), library.ranges(shape="circle", colour="red", background="blue"))


@pytest.mark.parametrize("query", ["circle", "圆形"])
def test_a_shape_alone_finds_it_in_any_colour(owner_api, library, query):
    assert_top_are(search(owner_api, query), library.ranges(shape="circle"))


def test_a_moment_has_the_contract_fields_and_an_image_is_a_moment_at_zero(owner_api, library):
    body = search(owner_api, "an orange star", limit=5)
    poster = library.assets["poster.png"]
    top = body["results"][0]
    assert (top["asset_id"], top["start"], top["end"], top["title"]) == (poster.pk, 0.0, 0.0, "Campaign poster")
    assert {"asset_id", "title", "start", "end", "score", "thumbnail"} <= set(top)
    assert owner_api.get(top["thumbnail"]).status_code == 200
    assert Search.objects.filter(pk=body["search_id"], query="an orange star").exists()


def test_limit_caps_the_results(owner_api, library):
    assert len(search(owner_api, "circle")["results"]) == len(library.ranges(shape="circle"))
    assert len(search(owner_api, "circle", limit=1)["results"]) == 1


def test_results_are_best_first_and_one_assets_moments_never_overlap(owner_api, library):
    results = search(owner_api, "a green triangle", limit=100)["results"]
    scores = [r["score"] for r in results]
    assert scores == sorted(scores, reverse=True)
    by_asset = {}
    for r in results:
        for start, end in by_asset.get(r["asset_id"], []):
            assert r["end"] <= start or r["start"] >= end or r["start"] == r["end"] == start
        by_asset.setdefault(r["asset_id"], []).append((r["start"], r["end"]))


def test_explain_returns_the_parts_of_each_score(owner_api, library):
    result = search(owner_api, "a red circle", explain=1)["results"][0]
    parts = result["explain"]
    assert parts["total"] == pytest.approx(parts["visual"] + parts["text_bonus"] + parts["tag_bonus"]
                                           + parts["description_bonus"] + parts["feedback"], abs=1e-3)
    assert parts["tag_match"] > 0  # "red" and "circle" are vocabulary tags of this moment
    assert result["score"] == pytest.approx(parts["total"], abs=1e-3)


def test_title_words_lift_the_footage_they_name(owner_api, library):
    council = library.assets["council.mp4"].pk
    plain = search(owner_api, "a white cross", explain=1)["results"]
    named = search(owner_api, "council meeting white cross", explain=1)["results"]
    assert [r for r in plain if r["asset_id"] == council][0]["explain"]["text_bonus"] == 0
    assert [r for r in named if r["asset_id"] == council][0]["explain"]["text_bonus"] > 0


def test_a_query_nothing_matches_says_so_instead_of_presenting_noise(owner_api, library):
    body = search(owner_api, "a blue star on an orange background")  # no such scene in the library
    assert body["weak"] is True
    assert body["notice"] == "No footage matches well; the closest results are below."
    assert search(owner_api, "a purple triangle")["weak"] is False


# Filters

def test_kind_filter(owner_api, library):
    results = search(owner_api, "a star", kind="image")["results"]
    assert {r["asset_id"] for r in results} == {library.assets["poster.png"].pk}
    assert library.assets["poster.png"].pk not in {r["asset_id"] for r in search(owner_api, "a star", kind="video")["results"]}


def test_asset_filter_searches_inside_one_asset(owner_api, library):
    council = library.assets["council.mp4"]
    body = search(owner_api, "a red circle", asset=council.pk)
    assert {r["asset_id"] for r in body["results"]} == {council.pk}
    assert_top_are(body, [r for r in library.ranges(shape="circle", colour="red") if r[0] == council.pk])


def test_tag_filter_keeps_only_seconds_carrying_the_tag(owner_api, library):
    results = search(owner_api, "something", tag="diamond", limit=100)["results"]
    diamonds = library.ranges(shape="diamond")
    assert results
    for r in results:
        assert any(r["asset_id"] == a and r["start"] >= s - 1 and r["end"] <= e + 1 for a, s, e in diamonds), r


def test_date_filters(owner_api, library):
    today = dt.date.today()
    assert search(owner_api, "circle", after=today.isoformat())["results"]
    assert search(owner_api, "circle", after=(today + dt.timedelta(days=1)).isoformat())["results"] == []
    assert search(owner_api, "circle", before=(today - dt.timedelta(days=1)).isoformat())["results"] == []


@pytest.mark.parametrize("params, detail", [
    ({}, "Type what you are looking for"),
    ({"q": "circle", "tag": "no-such-tag"}, "There is no tag named"),
    ({"q": "circle", "person": "7"}, "There is no person 7"),
    ({"q": "circle", "kind": "audio"}, "kind must be video or image"),
    ({"q": "circle", "limit": "101"}, "limit must be from 1 to 100"),
    ({"q": "circle", "after": "yesterday"}, "after must be an ISO date"),
    ({"q": "circle", "asset": "999999"}, "There is no asset 999999"),
])
def test_bad_search_parameters_get_a_400_with_a_sentence(owner_api, library, params, detail):
    response = owner_api.get("/api/search", params)
    assert response.status_code == 400
    assert detail in response.json()["detail"]


# Query by example

def test_search_by_an_example_image(owner_api, library, tmp_path):
    example = tmp_path / "example.png"
    write_world_image(example, Scene(shape="circle", colour="red", background="blue", duration=1, seed=99))
    with open(example, "rb") as handle:
        response = owner_api.post("/api/search/image", {"file": handle, "limit": 1}, format="multipart")
    assert response.status_code == 200, response.content
    body = response.json()
    assert_top_are(body, library.ranges(shape="circle", colour="red", background="blue"))
    assert len(body["results"]) == 1


def test_search_by_image_rejects_what_is_not_an_image(owner_api, library):
    not_image = io.BytesIO(b"definitely not pixels")
    not_image.name = "photo.jpg"
    response = owner_api.post("/api/search/image", {"file": not_image}, format="multipart")
    assert response.status_code == 400
    assert "not an image" in response.json()["detail"]
    assert owner_api.post("/api/search/image", {}, format="multipart").json()["detail"].startswith("Attach")


def test_more_like_this_finds_the_same_scene_first_and_look_alikes_next(owner_api, library):
    harbour = library.assets["harbour.mp4"]
    response = owner_api.get(f"/api/assets/{harbour.pk}/similar", {"t": 8})
    assert response.status_code == 200, response.content
    results = spans(response.json())
    same_scene = library.ranges(shape="circle", colour="red", background="blue")[0]
    assert matches(results[0], same_scene)
    other_red_circle = library.ranges(shape="circle", colour="red", background="green")[0]
    assert any(matches(found, other_red_circle) for found in results[:3])


def test_more_like_this_on_a_missing_asset_is_a_404(owner_api, library):
    response = owner_api.get("/api/assets/999999/similar", {"t": 1})
    assert response.status_code == 404
    assert "no asset 999999" in response.json()["detail"]


# Auth

@pytest.mark.parametrize("method, path", [
    ("get", "/api/search?q=circle"), ("post", "/api/search/image"), ("get", "/api/assets/1/similar?t=0"),
    ("post", "/api/feedback"),
])
def test_search_endpoints_need_a_login_or_token(anonymous_api, method, path):
    response = getattr(anonymous_api, method)(path)
    assert response.status_code == 401
    assert "detail" in response.json()


def test_when_the_model_cannot_be_loaded_search_says_why_as_json(owner, owner_api, client, settings, offline):
    settings.CLIP_MODEL, settings.CLIP_PRETRAINED = "ViT-B-32", "laion2b_s34b_b79k"
    response = owner_api.get("/api/search", {"q": "a flood at the bridge"})
    assert response.status_code == 503
    assert response.json()["detail"].startswith("Search is unavailable: The CLIP model ViT-B-32")
    client.force_login(owner)
    page = client.get("/search/", {"q": "a flood at the bridge"})
    assert page.status_code == 503 and "Search is unavailable" in page.content.decode()


def test_before_anything_is_indexed_search_says_so(owner_api, settings):
    settings.CLIP_MODEL, settings.CLIP_PRETRAINED = "ViT-B-32", "random"  # loads offline, but nothing was embedded with it
    body = owner_api.get("/api/search", {"q": "circle"}).json()
    assert body["results"] == [] and "No footage has been indexed with the model ViT-B-32" in body["notice"]
    assert isinstance(body["search_id"], str)  # stored all the same (CONTRACT section 3: always a string)
    assert Search.objects.filter(pk=body["search_id"], query="circle").exists()
