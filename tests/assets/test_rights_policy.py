"""The rights policy: admins decide whether viewers see embargoed and do-not-use footage at all
(/settings/rights/ and the Django admin); editors and admins always see it."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from mediahub.assets.models import Asset, RightsPolicy
from mediahub.assets.services import rights_policy_update
from tests.assets.test_pages import add_frames, make_asset


@pytest.fixture
def footage(owner):
    """An asset under embargo, one marked do not use, and one free to use, each with frames."""
    assets = {
        "embargoed": make_asset(owner, title="Embargoed", content=b"1", embargo_until=timezone.now() + timedelta(days=1)),
        "do_not_use": make_asset(owner, title="Do not use", content=b"2", rights_status="do_not_use"),
        "free": make_asset(owner, title="Free", content=b"3", rights_status="cleared"),
    }
    for asset in assets.values():
        add_frames(asset, count=2)
    return assets


def hide(*, embargoed=False, do_not_use=False):
    rights_policy_update(user=None, viewers_see_embargoed=not embargoed, viewers_see_do_not_use=not do_not_use)


def asset_urls(asset) -> list[str]:
    return [f"/assets/{asset.pk}/", f"/assets/{asset.pk}/media", f"/assets/{asset.pk}/thumbnail.jpg",
            f"/assets/{asset.pk}/frames/0.jpg", f"/api/assets/{asset.pk}", f"/api/assets/{asset.pk}/history",
            f"/api/assets/{asset.pk}/shots"]


def test_by_default_viewers_see_everything(client, viewer, footage):
    client.force_login(viewer)
    assert {a["title"] for a in client.get("/api/assets").json()["results"]} == {"Embargoed", "Do not use", "Free"}


def test_hidden_footage_is_gone_for_viewers_everywhere_in_the_library(client, viewer, footage):
    hide(embargoed=True, do_not_use=True)
    client.force_login(viewer)
    assert [a["title"] for a in client.get("/api/assets").json()["results"]] == ["Free"]
    page = client.get("/").content.decode()
    assert f'href="/assets/{footage["free"].pk}/"' in page
    for hidden in (footage["embargoed"], footage["do_not_use"]):
        assert f'href="/assets/{hidden.pk}/"' not in page
        for url in asset_urls(hidden):
            assert client.get(url).status_code == 404, url
    for url in asset_urls(footage["free"]):
        assert client.get(url).status_code == 200, url


def test_each_rule_hides_only_its_own_footage(viewer_api, footage):
    hide(embargoed=True)
    assert {a["title"] for a in viewer_api.get("/api/assets").json()["results"]} == {"Do not use", "Free"}
    hide(do_not_use=True)
    assert {a["title"] for a in viewer_api.get("/api/assets").json()["results"]} == {"Embargoed", "Free"}


def test_footage_whose_embargo_has_passed_is_shown_again(viewer_api, footage):
    hide(embargoed=True)
    Asset.objects.filter(pk=footage["embargoed"].pk).update(
        embargo_until=timezone.now() - timedelta(minutes=1))
    assert viewer_api.get(f"/api/assets/{footage['embargoed'].pk}").status_code == 200


@pytest.mark.parametrize("role", ["editor", "admin"])
def test_editors_and_admins_always_see_it_with_its_warning(client, footage, role, request):
    hide(embargoed=True, do_not_use=True)
    client.force_login(request.getfixturevalue(role))
    assert len(client.get("/api/assets").json()["results"]) == 3
    for url in asset_urls(footage["do_not_use"]):
        assert client.get(url).status_code == 200, url
    assert client.get(f"/api/assets/{footage['do_not_use'].pk}").json()["usage_warning"] == "Do not use."


def test_only_admins_open_the_rights_policy_page(client, viewer, editor, admin):
    for user, status in ((viewer, 403), (editor, 403), (admin, 200)):
        client.force_login(user)
        assert client.get("/settings/rights/").status_code == status
    client.force_login(editor)
    assert client.post("/settings/rights/", {"viewers_see_embargoed": "on"}).status_code == 403
    assert not RightsPolicy.objects.exists()


def test_an_admin_hides_embargoed_footage_from_viewers_on_the_page(client, viewer, admin, footage):
    client.force_login(admin)
    page = client.get("/settings/rights/").content.decode()
    for rule in ("viewers_see_embargoed", "viewers_see_do_not_use"):  # both rules start open
        assert re.search(rf'<input [^>]*name="{rule}"[^>]* checked', page), rule
    response = client.post("/settings/rights/", {"viewers_see_do_not_use": "on"}, follow=True)
    assert "The rights policy is saved" in response.content.decode()
    policy = RightsPolicy.objects.get(pk=1)
    assert (policy.viewers_see_embargoed, policy.viewers_see_do_not_use, policy.updated_by) == (False, True, admin)
    client.force_login(viewer)
    assert client.get(f"/assets/{footage['embargoed'].pk}/").status_code == 404
    assert client.get(f"/assets/{footage['do_not_use'].pk}/").status_code == 200


def test_the_policy_page_needs_the_csrf_token(admin):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    strict.force_login(admin)
    assert strict.post("/settings/rights/", {}).status_code == 403
    assert not RightsPolicy.objects.exists()


def test_admins_also_set_it_in_the_django_admin(client, admin, editor):
    client.force_login(admin)
    assert client.get("/admin/assets/rightspolicy/").status_code == 200
    response = client.post("/admin/assets/rightspolicy/add/", {"viewers_see_do_not_use": "on"})
    assert response.status_code == 302
    assert RightsPolicy.objects.get().pk == 1 and not RightsPolicy.objects.get().viewers_see_embargoed
    client.force_login(editor)
    assert client.get("/admin/assets/rightspolicy/").status_code in (302, 403)
