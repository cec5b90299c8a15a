"""PATCH /api/assets/{id} and the asset page's edit form: title and description (editors and admins)."""

import pytest

from mediahub.assets.models import Asset
from tests.assets.test_pages import make_asset


@pytest.fixture
def asset(owner):
    return make_asset(owner, title="Flood at the bridge", description="River at dawn")


def test_patch_changes_title_and_description_and_answers_the_asset(editor_api, asset):
    response = editor_api.patch(f"/api/assets/{asset.pk}", {"title": "  Bridge flood, day 2 ", "description": "洪水"},
                                format="json")
    assert response.status_code == 200
    assert (response.json()["title"], response.json()["description"]) == ("Bridge flood, day 2", "洪水")
    asset.refresh_from_db()
    assert (asset.title, asset.description) == ("Bridge flood, day 2", "洪水")


def test_patch_of_one_field_leaves_the_other(editor_api, asset):
    editor_api.patch(f"/api/assets/{asset.pk}", {"description": ""}, format="json")
    asset.refresh_from_db()
    assert (asset.title, asset.description) == ("Flood at the bridge", "")


@pytest.mark.parametrize("body, words", [
    ({"title": ""}, "title: This field may not be blank."),
    ({"title": None}, "title: This field may not be null."),
    ({"title": "x" * 301}, "title: Ensure this field has no more than 300 characters."),
    ({"description": ["a", "list"]}, "description: Not a valid string."),
    ({"keywords": "flood", "title": "ok"}, "keywords: Send a list of words"),
    ({"rights": {"status": "maybe"}, "credit": "AP"}, 'rights: status: must be cleared, restricted or do_not_use, not "maybe".'),
    ({"shot_date": "2099-01-01"}, "shot_date: The date shot can't be in the future."),
    ({"embargo_until": "tomorrow"}, "embargo_until: Datetime has wrong format."),
    ({"owner": "me", "title": "ok"}, "owner: cannot be changed here"),
])
def test_a_bad_patch_is_a_400_naming_the_field_and_changes_nothing(editor_api, asset, body, words):
    response = editor_api.patch(f"/api/assets/{asset.pk}", body, format="json")
    assert response.status_code == 400
    assert response.json()["detail"].startswith(words)
    assert Asset.objects.filter(pk=asset.pk, title="Flood at the bridge", description="River at dawn").exists()


def test_patch_of_a_missing_asset_is_a_404(editor_api, db):
    assert editor_api.patch("/api/assets/999999", {"title": "x"}, format="json").status_code == 404


def test_patch_sets_newsroom_metadata_and_keeps_who_changed_what(editor_api, editor, asset):
    body = {"keywords": ["flood", " Bridge ", "flood", "洪水"], "location": "Wuhan", "shot_date": "2026-07-02",
            "source": "Reuters", "credit": "Reuters / J. Doe", "rights": {"status": "restricted", "note": "news use only"},
            "embargo_until": "2030-01-01T08:00:00Z", "notes": "Check the second shot."}
    answer = editor_api.patch(f"/api/assets/{asset.pk}", body, format="json").json()
    assert answer["keywords"] == ["flood", "Bridge", "洪水"]
    assert answer["rights"] == {"status": "restricted", "note": "news use only"}
    assert (answer["shot_date"], answer["embargo_until"], answer["embargoed"]) == ("2026-07-02", "2030-01-01T08:00:00Z", True)
    assert answer["usage_warning"] == "Embargoed until 2030-01-01 08:00 UTC. Restricted: news use only"
    editor_api.patch(f"/api/assets/{asset.pk}", {"embargo_until": None, "rights": {"status": "cleared"}}, format="json")
    newest, first = asset.changes.all()
    assert (newest.username, newest.via) == (editor.username, "api")
    assert newest.changes == {"embargo_until": {"from": "2030-01-01T08:00:00Z", "to": None},
                              "rights_status": {"from": "restricted", "to": "cleared"}}
    assert first.changes["location"] == {"from": "", "to": "Wuhan"}


def test_a_patch_that_changes_nothing_leaves_no_history(editor_api, asset):
    editor_api.patch(f"/api/assets/{asset.pk}", {"title": "Flood at the bridge"}, format="json")
    assert not asset.changes.exists()
