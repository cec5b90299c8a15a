"""The copies panel, the "Contains footage from …" badges and the copies API read from stored matches."""

import datetime as dt

import pytest
from django.core.cache import caches
from django.utils import timezone

from mediahub.assets.models import Asset
from mediahub.copies.models import Match
from tests.assets.test_pages import make_asset


def matched_pair(owner) -> tuple[Asset, Asset]:
    """An older source and a newer piece that holds 4–10 s of it at 72–78 s, stored both ways."""
    source = make_asset(owner, title="Source <i>raw</i>", content=b"a" * 10)
    piece = make_asset(owner, title="Piece", content=b"b" * 10)
    Asset.objects.filter(pk=source.pk).update(created_at=timezone.now() - dt.timedelta(days=1))
    segment = {"start": 72.0, "end": 78.0, "other_start": 4.0, "other_end": 10.0, "flipped": False}
    Match.objects.create(asset=piece, other=source, score=0.9, segments=[segment])
    Match.objects.create(asset=source, other=piece, score=0.9, segments=[
        {"start": 4.0, "end": 10.0, "other_start": 72.0, "other_end": 78.0, "flipped": False}])
    return source, piece


def test_the_asset_page_shows_each_range_side_by_side_and_the_newer_asset_a_badge(client, viewer, owner):
    source, piece = matched_pair(owner)
    client.force_login(viewer)
    page = client.get(f"/assets/{piece.pk}/").content.decode()
    assert 'data-seek="72.0">1:12–1:18 here</button>' in page
    # plays the range in the other asset and stops at its end
    assert f'href="/assets/{source.pk}/?t=4.0&amp;end=10.0">0:04–0:10 in Source &lt;i&gt;raw&lt;/i&gt;</a>' in page
    assert "Contains footage from Source &lt;i&gt;raw&lt;/i&gt;" in page

    older = client.get(f"/assets/{source.pk}/").content.decode()
    assert 'data-seek="4.0">0:04–0:10 here</button>' in older and "1:12–1:18 in Piece" in older
    assert "Contains footage from" not in older  # the piece is newer: it holds the source's footage, not the reverse


def test_library_badges_cost_one_query_for_the_page(client, viewer, owner, django_assert_max_num_queries):
    source, piece = matched_pair(owner)
    for index in range(6):
        make_asset(owner, title=f"clip {index}", content=bytes([index]) * 5)
    client.force_login(viewer)
    with django_assert_max_num_queries(10):  # one of them reads the source filter's choices
        page = client.get("/").content.decode()
    assert page.count("Contains footage from") == 1
    assert f'<a class="footage-badge" href="/assets/{source.pk}/">Contains footage from Source &lt;i&gt;raw&lt;/i&gt;</a>' in page


def test_the_copies_api_answers_the_contract_shape(viewer_api, owner):
    source, piece = matched_pair(owner)
    body = viewer_api.get(f"/api/assets/{piece.pk}/copies").json()
    [copy] = body["copies"]
    assert (copy["asset_id"], copy["title"], copy["score"]) == (source.pk, "Source <i>raw</i>", 0.9)
    assert [{key: s[key] for key in ("start", "end", "other_start", "other_end")} for s in copy["segments"]] == [
        {"start": 72.0, "end": 78.0, "other_start": 4.0, "other_end": 10.0}]


def test_deleting_either_asset_removes_both_directions(owner):
    source, piece = matched_pair(owner)
    source.delete()
    assert not Match.objects.exists()


@pytest.fixture
def one_check_a_minute(settings):
    caches["throttle"].clear()
    settings.THROTTLE_RATES = {**settings.THROTTLE_RATES, "copy_check": "1/minute"}
    yield
    caches["throttle"].clear()


def test_checks_are_throttled_per_user_on_the_page_and_the_api_together(client, viewer, viewer_api, one_check_a_minute):
    client.force_login(viewer)
    first = client.post("/copies/check/", {})
    assert first.status_code == 400 and "Choose a video or an image to check." in first.content.decode()
    second = client.post("/copies/check/", {})
    assert second.status_code == 429 and "Too many checks for now; try again in" in second.content.decode()
    assert viewer_api.post("/api/copies/check", {}, format="multipart").status_code == 429


def test_the_openapi_description_lists_the_copies_endpoints(viewer_api):
    schema = viewer_api.get("/api/schema", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    assert "/api/assets/{id}/copies" in schema["paths"]
    assert "multipart/form-data" in schema["paths"]["/api/copies/check"]["post"]["requestBody"]["content"]


def test_viewers_do_not_see_copies_the_rights_policy_hides(client, viewer, editor, owner):
    from mediahub.assets.services import rights_policy_update

    source, piece = matched_pair(owner)
    Asset.objects.filter(pk=source.pk).update(rights_status="do_not_use")
    rights_policy_update(user=None, viewers_see_embargoed=True, viewers_see_do_not_use=False)
    for user, shown in ((viewer, False), (editor, True)):
        client.force_login(user)
        page, library = client.get(f"/assets/{piece.pk}/").content.decode(), client.get("/").content.decode()
        assert ("in Source &lt;i&gt;raw&lt;/i&gt;" in page) is shown
        assert ("Contains footage from Source" in page) is shown and ("Contains footage from Source" in library) is shown
        copies = client.get(f"/api/assets/{piece.pk}/copies").json()["copies"]
        assert bool([c for c in copies if c["asset_id"] == source.pk]) is shown
