"""Newsroom metadata in search: edits are found at once (titles, keywords in English and Chinese,
locations), without reprocessing, and an old keyword stops finding the asset."""

from datetime import timedelta

import pytest
from django.utils import timezone

from mediahub.assets.models import Asset
from mediahub.assets.services import rights_policy_update

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


# Filters, the rights policy and usage warnings in search results

def set_metadata(asset, **fields):
    Asset.objects.filter(pk=asset.pk).update(**fields)


def result_assets(api, q="circle", **params) -> set[int]:
    response = api.get("/api/search", {"q": q, "limit": 100, **params})
    assert response.status_code == 200, response.content
    return {r["asset_id"] for r in response.json()["results"]}


@pytest.fixture
def newsroom(library):
    """Council: Reuters, restricted, under embargo; parade: AP, do not use; the rest unchecked."""
    council, parade = library.assets["council.mp4"], library.assets["parade.mp4"]
    set_metadata(council, source="Reuters", rights_status="restricted", rights_note="news use only",
                 embargo_until=timezone.now() + timedelta(days=1))
    set_metadata(parade, source="AP", rights_status="do_not_use")
    return library


@pytest.mark.parametrize("params, expected", [
    ({"source": "reuters"}, {"council.mp4"}),
    ({"rights": "do_not_use"}, {"parade.mp4"}),
    ({"rights": "unset"}, {"harbour.mp4"}),  # the other red/any circles are in council and parade
    ({"embargoed": "true"}, {"council.mp4"}),
    ({"embargoed": "false"}, {"harbour.mp4", "parade.mp4"}),
])
def test_search_filters_by_source_rights_and_embargo(viewer_api, newsroom, params, expected):
    assert result_assets(viewer_api, **params) == {newsroom.assets[name].pk for name in expected}


@pytest.mark.parametrize("params, detail", [
    ({"rights": "maybe"}, "rights must be one of cleared, restricted, do_not_use, unset, not 'maybe'."),
    ({"embargoed": "soon"}, "embargoed must be true or false, not 'soon'."),
])
def test_bad_metadata_filters_are_400_sentences(viewer_api, library, params, detail):
    response = viewer_api.get("/api/search", {"q": "circle", **params})
    assert response.status_code == 400 and response.json() == {"detail": detail}


def test_moments_carry_the_usage_warning(viewer_api, newsroom):
    results = viewer_api.get("/api/search", {"q": "circle", "limit": 100}).json()["results"]
    warnings = {r["asset_id"]: r["usage_warning"] for r in results}
    council, parade, harbour = (newsroom.assets[name].pk for name in ("council.mp4", "parade.mp4", "harbour.mp4"))
    assert warnings[council].startswith("Embargoed until ") and warnings[council].endswith("Restricted: news use only")
    assert (warnings[parade], warnings[harbour]) == ("Do not use.", None)


def test_the_rights_policy_hides_footage_from_viewers_searches_not_from_editors(viewer_api, editor_api, newsroom):
    rights_policy_update(user=None, viewers_see_embargoed=False, viewers_see_do_not_use=False)
    council, parade = newsroom.assets["council.mp4"].pk, newsroom.assets["parade.mp4"].pk
    for query in ("circle", "council meeting", "parade of lanterns"):  # visual and title matches alike
        assert not {council, parade} & result_assets(viewer_api, query), query
    assert {council, parade} <= result_assets(editor_api, "circle")
    assert result_assets(editor_api, "council meeting") >= {council}


def test_the_search_page_filters_and_hides_for_viewers(client, viewer, newsroom):
    client.force_login(viewer)
    council, parade = newsroom.assets["council.mp4"].pk, newsroom.assets["parade.mp4"].pk
    page = client.get("/search/", {"q": "circle", "source": "AP"}).content.decode()
    assert f'data-asset-id="{parade}"' in page and f'data-asset-id="{council}"' not in page
    assert '<option value="Reuters"' in page and '<option value="AP" selected' in page
    assert client.get("/search/", {"q": "circle", "embargoed": "soon"}).status_code == 400
    rights_policy_update(user=None, viewers_see_embargoed=True, viewers_see_do_not_use=False)
    page = client.get("/search/", {"q": "circle"}).content.decode()
    assert f'data-asset-id="{council}"' in page and f'data-asset-id="{parade}"' not in page
