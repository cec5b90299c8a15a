"""Newsroom metadata in search: edits are found at once (titles, keywords in English and Chinese,
locations), without reprocessing, and an old keyword stops finding the asset."""

import pytest

pytestmark = pytest.mark.django_db


def text_matched_assets(api, q) -> set[int]:
    response = api.get("/api/search", {"q": q, "explain": 1, "limit": 100})
    assert response.status_code == 200, response.content
    return {r["asset_id"] for r in response.json()["results"] if r["explain"]["text_match"] > 0}


def patch(api, asset, **fields):
    response = api.patch(f"/api/assets/{asset.pk}", fields, format="json")
    assert response.status_code == 200, response.content


def test_a_title_edit_is_found_by_search_at_once(editor_api, library):
    council = library.assets["council.mp4"]
    assert council.pk not in text_matched_assets(editor_api, "budget vote")
    patch(editor_api, council, title="Budget vote in the council")
    assert council.pk in text_matched_assets(editor_api, "budget vote")


@pytest.mark.parametrize("query", ["flood", "洪水", "Wuhan", "武汉"])
def test_keywords_and_location_find_the_asset_in_english_and_chinese(editor_api, library, query):
    storm = library.assets["storm.mp4"]
    patch(editor_api, storm, keywords=["flood", "洪水"], location="Wuhan 武汉")
    assert text_matched_assets(editor_api, query) == {storm.pk}


def test_an_asset_whose_keyword_changed_is_no_longer_found_by_the_old_one(editor_api, library):
    storm = library.assets["storm.mp4"]
    patch(editor_api, storm, keywords=["flood"])
    assert text_matched_assets(editor_api, "flood") == {storm.pk}
    patch(editor_api, storm, keywords=["drought"])
    assert text_matched_assets(editor_api, "flood") == set()
    assert text_matched_assets(editor_api, "drought") == {storm.pk}
