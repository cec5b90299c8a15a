"""Feedback (CONTRACT.md section 4): judgements and clicks change later rankings, boundedly and reversibly."""

from __future__ import annotations

import pytest

from mediahub.search.models import Feedback, Search

pytestmark = pytest.mark.django_db


def search(api, q, **params):
    response = api.get("/api/search", {"q": q, "explain": 1, **params})
    assert response.status_code == 200, response.content
    return response.json()


def moment_key(result) -> tuple:
    return result["asset_id"], result["start"], result["end"]


def rank_of(body, key) -> int | None:
    keys = [moment_key(r) for r in body["results"]]
    return keys.index(key) + 1 if key in keys else None


def judge(api, body, result, action):
    response = api.post("/api/feedback", {"search_id": body["search_id"], "asset_id": result["asset_id"],
                                          "start": result["start"], "end": result["end"], "action": action},
                        format="json")
    assert response.status_code == 201, response.content
    assert response.json() == {"ok": True}


def test_one_relevant_lifts_a_lower_moment_into_the_top_3_for_the_same_and_a_similar_query(owner_api, editor_api, library):
    before = search(owner_api, "circle")
    assert len(before["results"]) >= 6
    lowest = before["results"][-1]
    judge(owner_api, before, lowest, "relevant")

    for query in ("circle", "a circle"):  # feedback is shared: another user sees the effect too
        after = search(editor_api, query)
        assert rank_of(after, moment_key(lowest)) <= 3, query
        lifted = after["results"][rank_of(after, moment_key(lowest)) - 1]
        assert lifted["feedback"] == "lifted" and lifted["explain"]["feedback"] > 0
        assert after["feedback_applied"] is True


def test_feedback_never_changes_the_top_5_of_an_unrelated_query(owner_api, library):
    unrelated = ["a yellow star", "a green square", "红色圆形"]
    before = {q: [moment_key(r) for r in search(owner_api, q)["results"][:5]] for q in unrelated}
    circles = search(owner_api, "a white circle")
    for result in circles["results"][:3]:
        judge(owner_api, circles, result, "relevant")
    judge(owner_api, circles, circles["results"][0], "click")
    crosses = search(owner_api, "a black cross")
    judge(owner_api, crosses, crosses["results"][-1], "relevant")
    judge(owner_api, crosses, crosses["results"][0], "irrelevant")
    for query in unrelated:
        assert [moment_key(r) for r in search(owner_api, query)["results"][:5]] == before[query], query


def test_one_irrelevant_moves_the_top_result_out_of_the_top_3(owner_api, library):
    before = search(owner_api, "circle")
    top = before["results"][0]
    judge(owner_api, before, top, "irrelevant")
    after = search(owner_api, "circle")
    assert rank_of(after, moment_key(top)) > 3
    assert after["results"][rank_of(after, moment_key(top)) - 1]["feedback"] == "lowered"


def test_a_click_counts_less_than_a_judgement(owner_api, library):
    before = search(owner_api, "circle")
    target = before["results"][-1]
    judge(owner_api, before, target, "click")
    clicked = search(owner_api, "circle")
    rank_after_click = rank_of(clicked, moment_key(target))
    click_lift = clicked["results"][rank_after_click - 1]["explain"]["feedback"]
    assert click_lift > 0 and rank_after_click > 3  # nudged up, not promoted

    judge(owner_api, clicked, clicked["results"][rank_after_click - 1], "relevant")
    judged = search(owner_api, "circle")
    assert rank_of(judged, moment_key(target)) <= 3
    assert judged["results"][rank_of(judged, moment_key(target)) - 1]["explain"]["feedback"] > click_lift


def test_judgements_refine_the_query_within_a_session(owner_api, library):
    first = search(owner_api, "circle", session="desk-1")
    assert first["refined"] is False
    judge(owner_api, first, first["results"][-1], "relevant")
    assert search(owner_api, "circle", session="desk-1")["refined"] is True
    assert search(owner_api, "circle", session="desk-2")["refined"] is False


def test_searches_are_stored_with_their_results_and_feedback_with_its_search(owner, owner_api, library):
    body = search(owner_api, "a red circle", tag="circle")
    stored = Search.objects.get(pk=body["search_id"])
    assert (stored.user, stored.query, stored.kind, stored.filters) == (owner, "a red circle", "text", {"tag": "circle"})
    assert [(r["asset_id"], r["start"], r["end"], r["rank"]) for r in stored.results] == [
        (*moment_key(r), rank) for rank, r in enumerate(body["results"], start=1)]
    assert len(stored.vector) == 128
    judge(owner_api, body, body["results"][0], "relevant")
    assert Feedback.objects.get(search=stored).action == "relevant"


def test_deleting_an_asset_removes_its_results_and_its_feedback(owner_api, editor_api, library):
    before = search(owner_api, "circle")
    parade = library.assets["parade.mp4"]
    on_parade = [r for r in before["results"] if r["asset_id"] == parade.pk]
    judge(owner_api, before, on_parade[0], "relevant")
    assert Feedback.objects.filter(asset=parade).count() == 1

    assert editor_api.delete(f"/api/assets/{parade.pk}").status_code == 204
    assert not Feedback.objects.filter(asset_id=parade.pk).exists()
    after = search(owner_api, "circle")
    assert parade.pk not in {r["asset_id"] for r in after["results"]}
    assert after["feedback_applied"] is False


@pytest.mark.parametrize("change, status, detail", [
    ({"search_id": "00000000-0000-0000-0000-000000000000"}, 404, "There is no such search"),
    ({"start": 123.0}, 400, "not among this search's results"),
    ({"action": "love"}, 400, "action"),
])
def test_bad_feedback_is_refused_with_a_sentence(owner_api, library, change, status, detail):
    body = search(owner_api, "circle")
    result = body["results"][0]
    payload = {"search_id": body["search_id"], "asset_id": result["asset_id"], "start": result["start"],
               "end": result["end"], "action": "relevant", **change}
    response = owner_api.post("/api/feedback", payload, format="json")
    assert response.status_code == status
    assert detail in str(response.json()["detail"])
    assert not Feedback.objects.exists()
