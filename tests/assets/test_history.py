"""GET /api/assets/{id}/history: who changed an asset's metadata, when, how and what (every role reads it)."""

import pytest

from mediahub.assets.models import AssetChange
from mediahub.assets.services import asset_update, assets_bulk_update
from tests.assets.test_pages import make_asset


@pytest.fixture
def asset(owner):
    return make_asset(owner, title="Flood at the bridge")


def test_history_lists_every_change_newest_first_with_who_how_and_what(editor_api, viewer_api, editor, admin, asset):
    editor_api.patch(f"/api/assets/{asset.pk}", {"keywords": ["flood"], "rights": {"status": "restricted"}}, format="json")
    assets_bulk_update(asset_ids=[asset.pk], user=admin, source="Reuters")
    asset_update(asset=asset, user=editor, via=AssetChange.Via.PAGE, title="Bridge flood")
    response = viewer_api.get(f"/api/assets/{asset.pk}/history")
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 3
    assert [(e["user"], e["via"]) for e in body["results"]] == [(editor.username, "page"), (admin.username, "bulk"),
                                                                  (editor.username, "api")]
    assert body["results"][0]["changes"] == {"title": {"from": "Flood at the bridge", "to": "Bridge flood"}}
    assert body["results"][2]["changes"] == {"keywords": {"from": [], "to": ["flood"]},
                                             "rights_status": {"from": "", "to": "restricted"}}
    times = [e["at"] for e in body["results"]]
    assert times == sorted(times, reverse=True)


def test_history_is_paged_like_the_asset_list(viewer_api, editor, asset):
    for n in range(3):
        asset_update(asset=asset, user=editor, notes=f"note {n}")
    body = viewer_api.get(f"/api/assets/{asset.pk}/history", {"page": 2}).json()
    assert (body["count"], body["page"], body["results"]) == (3, 2, [])


def test_an_asset_never_edited_has_an_empty_history(viewer_api, asset):
    assert viewer_api.get(f"/api/assets/{asset.pk}/history").json()["results"] == []


def test_history_of_a_missing_asset_is_a_404_sentence_and_anonymous_is_401(viewer_api, anonymous_api, asset):
    response = viewer_api.get("/api/assets/999999/history")
    assert response.status_code == 404 and "There is no asset 999999" in response.json()["detail"]
    assert anonymous_api.get(f"/api/assets/{asset.pk}/history").status_code == 401
