"""Search by person: the `person` filter and queries that name a person, on the indexed test-pattern library.

People and their face tracks are rows made here (the face detector is tested elsewhere); the
footage, its vectors and the rankings are the real pipeline's with the demo model.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from mediahub.search.models import Search
from tests import factories
from workers.ml.demo.video import write_world_image
from workers.ml.demo.world import Scene

pytestmark = pytest.mark.django_db


def search(api, q, **params):
    response = api.get("/api/search", {"q": q, **params})
    assert response.status_code == 200, response.content
    return response.json()


def spans(body) -> list[tuple[int, float, float]]:
    return [(r["asset_id"], r["start"], r["end"]) for r in body["results"]]


@dataclass
class Cast:
    wang: object  # "Wang Wei": part of the red circle on blue, part of the red circle on green, a green triangle
    wang_tracks: list[tuple[int, float, float]]
    wei_zh: object  # "王伟": the red circle on blue, whole
    wei_zh_tracks: list[tuple[int, float, float]]


@pytest.fixture
def cast(library) -> Cast:
    harbour, council, storm = (library.assets[name] for name in ("harbour.mp4", "council.mp4", "storm.mp4"))
    (_, blue_start, blue_end), = [r for r in library.ranges(shape="circle", colour="red", background="blue")]
    (_, green_start, green_end), = [r for r in library.ranges(shape="circle", colour="red", background="green")]
    (_, triangle_start, triangle_end), = library.ranges(shape="triangle", colour="green")
    by_id = {asset.pk: asset for asset in library.assets.values()}
    wang = factories.person("Wang Wei")
    wang_tracks = [(harbour.pk, blue_start + 2, blue_end), (council.pk, green_start, green_start + 3),
                   (storm.pk, triangle_start, triangle_end)]
    for asset_id, start, end in wang_tracks:
        factories.face_track(asset=by_id[asset_id], start=start, end=end, person=wang)
    wei_zh = factories.person("王伟")
    factories.face_track(asset=harbour, start=blue_start, end=blue_end, person=wei_zh)
    factories.face_track(asset=council, start=0, end=5, person=None)  # a face nobody was grouped with
    return Cast(wang=wang, wang_tracks=wang_tracks, wei_zh=wei_zh, wei_zh_tracks=[(harbour.pk, blue_start, blue_end)])


def inside(found: tuple[int, float, float], tracks) -> bool:
    asset_id, start, end = found
    return any(asset_id == a and start >= s - 1e-6 and end <= e + 1e-6 for a, s, e in tracks)


# The person filter

def test_the_person_filter_keeps_only_moments_inside_the_persons_appearances(owner_api, library, cast):
    everyone = spans(search(owner_api, "a red circle"))
    harbour = library.assets["harbour.mp4"].pk
    unfiltered_start = next(start for a, start, _ in everyone if a == harbour)
    body = search(owner_api, "a red circle", person=cast.wang.pk)
    found = spans(body)
    assert found and all(inside(moment, cast.wang_tracks) for moment in found), found
    # The red circle moments are clipped to the seconds Wang Wei is on screen, and both are found first.
    top = found[:2]
    assert {a for a, _, _ in top} == {harbour, library.assets["council.mp4"].pk}
    assert next(start for a, start, _ in top if a == harbour) == pytest.approx(unfiltered_start + 2, abs=1.0)
    assert Search.objects.get(pk=body["search_id"]).filters == {"person": cast.wang.pk}


def test_an_unknown_or_hidden_person_is_a_400_naming_the_parameter(owner_api, library, cast):
    hidden = factories.person("Someone Hidden", hidden=True)
    for person_id in (999999, hidden.pk):
        response = owner_api.get("/api/search", {"q": "circle", "person": person_id})
        assert response.status_code == 400
        assert response.json()["detail"].startswith(f"There is no person {person_id}")
        assert "person must be the id" in response.json()["detail"]
    response = owner_api.get("/api/search", {"q": "circle", "person": "wang"})
    assert response.status_code == 400 and "person must be a person id" in response.json()["detail"]


def test_a_merged_person_resolves_to_the_person_it_was_merged_into(owner_api, library, cast):
    parade = library.assets["parade.mp4"]
    (_, start, end), = [r for r in library.ranges(shape="circle", colour="white")]
    merged = factories.person("W. Wei", merged_into=cast.wang)
    factories.face_track(asset=parade, start=start, end=end, person=merged)  # a track the merge left on the old person
    via_merged = spans(search(owner_api, "a circle", person=merged.pk))
    assert via_merged == spans(search(owner_api, "a circle", person=cast.wang.pk))
    assert all(inside(m, cast.wang_tracks + [(parade.pk, start, end)]) for m in via_merged)
    assert any(a == parade.pk for a, _, _ in via_merged)  # the merged person's appearances count as Wang Wei's


def test_search_by_image_and_more_like_this_take_the_person_filter(owner_api, library, cast, tmp_path):
    example = tmp_path / "example.png"
    write_world_image(example, Scene(shape="circle", colour="red", background="blue", duration=1, seed=99))
    with open(example, "rb") as handle:
        response = owner_api.post("/api/search/image", {"file": handle, "person": cast.wang.pk}, format="multipart")
    assert response.status_code == 200, response.content
    found = spans(response.json())
    assert found and all(inside(m, cast.wang_tracks) for m in found)
    assert found[0][0] == library.assets["harbour.mp4"].pk

    harbour = library.assets["harbour.mp4"]
    similar = owner_api.get(f"/api/assets/{harbour.pk}/similar", {"t": 8, "person": cast.wang.pk})
    assert similar.status_code == 200, similar.content
    found = spans(similar.json())
    assert found and all(inside(m, cast.wang_tracks) for m in found)
    assert owner_api.get(f"/api/assets/{harbour.pk}/similar", {"t": 8, "person": 999999}).status_code == 400


def test_a_person_in_a_photo_is_found_in_it(owner_api, library):
    poster = library.assets["poster.png"]
    li = factories.person("Li Na")
    factories.face_track(asset=poster, start=0, end=0, person=li)
    found = spans(search(owner_api, "an orange star", person=li.pk))
    assert found == [(poster.pk, 0.0, 0.0)]


# A query that names a person

def test_a_query_naming_a_person_narrows_to_them_and_ranks_by_the_rest(owner_api, library, cast):
    filtered = search(owner_api, "red circle", person=cast.wang.pk)
    named = search(owner_api, "Wang Wei red circle", explain=1)
    assert spans(named) == spans(filtered)
    assert all(inside(m, cast.wang_tracks) for m in spans(named))
    explain = named["explain"]
    assert explain["person"] == {"id": cast.wang.pk, "name": "Wang Wei", "matched": "Wang Wei"}
    assert explain["narrowed_to_person"] is True and explain["ranked_by"] == "red circle"
    assert "Recognised Wang Wei" in explain["note"] and "narrowed" in explain["note"]
    assert named["query"] == "Wang Wei red circle"  # stored and answered as typed
    assert Search.objects.get(pk=named["search_id"]).filters == {"person": cast.wang.pk}


def test_names_match_whatever_the_case_and_only_as_whole_words(owner_api, library, cast):
    assert spans(search(owner_api, "a red circle with WANG WEI")) == spans(search(owner_api, "a red circle", person=cast.wang.pk))
    not_a_name = search(owner_api, "a red circle wangwei", explain=1)
    assert "explain" not in not_a_name or "person" not in not_a_name["explain"]


def test_a_chinese_name_is_found_inside_the_query(owner_api, library, cast):
    body = search(owner_api, "王伟红色圆形", explain=1)
    found = spans(body)
    assert found and all(inside(m, cast.wei_zh_tracks) for m in found)
    assert body["explain"]["person"]["name"] == "王伟" and body["explain"]["ranked_by"] == "红色圆形"


def test_the_longest_name_wins(owner_api, library, cast):
    factories.person("Wang")  # also in "Wang Wei red circle", but shorter
    body = search(owner_api, "Wang Wei red circle", explain=1)
    assert body["explain"]["person"]["id"] == cast.wang.pk


def test_a_name_alone_lists_the_persons_appearances_longest_first(owner_api, library, cast):
    storm_track = cast.wang_tracks[2]
    harbour_track = cast.wang_tracks[0]
    track = cast.wang.tracks.get(asset_id=harbour_track[0])
    track.best_face = factories.face(track=track, time=harbour_track[1] + 1)
    track.save()
    body = search(owner_api, "wang wei", explain=1)
    # 5 s in the storm, then two of 3 s: the one with a described face first.
    assert spans(body) == [storm_track, harbour_track, cast.wang_tracks[1]]
    assert body["weak"] is False and body["explain"]["ranked_by"] == ""
    assert "longest appearances first" in body["explain"]["note"]
    harbour = next(r for r in body["results"] if r["asset_id"] == harbour_track[0])
    assert harbour["best"] == harbour_track[1] + 1  # the card shows the best face's second


def test_an_explicit_person_filter_wins_over_a_name_in_the_text(owner_api, library, cast):
    body = search(owner_api, "王伟 red circle", person=cast.wang.pk, explain=1)
    assert all(inside(m, cast.wang_tracks) for m in spans(body))
    assert "explain" not in body


def test_a_name_nobody_has_changes_nothing(owner_api, library, cast):
    plain = search(owner_api, "red circle Zhang")
    assert {a for a, _, _ in spans(plain)[:2]} == {a for a, _, _ in library.ranges(shape="circle", colour="red")}
    assert not all(inside(m, cast.wang_tracks) for m in spans(plain))


def test_hidden_and_unnamed_people_are_not_recognised(owner_api, library, cast):
    factories.person("Red Circle", hidden=True)
    factories.person("")
    factories.person("X")  # too short to count as a name
    body = search(owner_api, "x red circle", explain=1)
    assert "explain" not in body
    assert {a for a, _, _ in spans(body)[:2]} == {a for a, _, _ in library.ranges(shape="circle", colour="red")}


# Who is in the moment

def test_each_moment_lists_the_named_people_on_screen_in_it(owner_api, library, cast):
    harbour, storm = library.assets["harbour.mp4"].pk, library.assets["storm.mp4"].pk
    results = search(owner_api, "circle", limit=100)["results"]
    harbour_circle = next(r for r in results if r["asset_id"] == harbour)
    assert harbour_circle["people"] == [{"id": cast.wei_zh.pk, "name": "王伟"}, {"id": cast.wang.pk, "name": "Wang Wei"}] \
        or harbour_circle["people"] == [{"id": cast.wang.pk, "name": "Wang Wei"}, {"id": cast.wei_zh.pk, "name": "王伟"}]
    parade = library.assets["parade.mp4"].pk
    assert all(r["people"] == [] for r in results if r["asset_id"] == parade)
    triangle = search(owner_api, "a green triangle")["results"][0]
    assert triangle["asset_id"] == storm and triangle["people"] == [{"id": cast.wang.pk, "name": "Wang Wei"}]


def test_a_name_alone_takes_the_other_filters(owner_api, library, cast):
    storm_track, council_track = cast.wang_tracks[2], cast.wang_tracks[1]
    assert spans(search(owner_api, "Wang Wei", tag="triangle")) == [storm_track]
    assert spans(search(owner_api, "Wang Wei", asset=council_track[0])) == [council_track]
    assert spans(search(owner_api, "Wang Wei", kind="image")) == []
