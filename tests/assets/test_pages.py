"""Server-rendered pages: login everywhere, the library, the asset page, media with Range, editor actions."""

import pytest
from bs4 import BeautifulSoup
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from mediahub.assets.models import Asset, AssetTag, Frame, TagLabel, frame_image_path
from mediahub.core.services import api_token_create
from tests import factories


def make_asset(owner, *, title="Flood at the bridge", content=b"\x00" * 1000, status="ready",
               filename="flood.mp4", **fields) -> Asset:
    asset = Asset(owner=owner, title=title, original_filename=filename, size_bytes=len(content),
                  sha256=f"{hash((title, content)) & (2**64 - 1):064x}", kind="video", mime_type="video/mp4",
                  status=status, duration=3.0, width=320, height=240, **fields)
    asset.original.save("flood.mp4", ContentFile(content), save=False)
    asset.save()
    return asset


def add_frames(asset: Asset, count: int = 3) -> None:
    for index in range(count):
        default_storage.save(frame_image_path(asset.pk, index), ContentFile(factories.png_bytes()))
        Frame.objects.create(asset=asset, index=index, time=float(index), image=frame_image_path(asset.pk, index))
    Asset.objects.filter(pk=asset.pk).update(poster_index=1)
    asset.refresh_from_db()


@pytest.mark.parametrize("path", ["/", "/upload/", "/assets/1/", "/assets/1/media", "/assets/1/thumbnail.jpg",
                                  "/assets/1/frames/0.jpg"])
def test_pages_redirect_anonymous_visitors_to_login(client, db, path):
    response = client.get(path)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=")


def test_login_page_signs_in(client, owner):
    page = client.get("/accounts/login/")
    assert page.status_code == 200 and b"csrfmiddlewaretoken" in page.content
    response = client.post("/accounts/login/", {"username": owner.username, "password": factories.PASSWORD})
    assert response.status_code == 302
    assert client.get("/").status_code == 200


def test_library_lists_assets_with_status_and_escapes_titles(client, viewer, owner):
    make_asset(owner, title="<script>alert(1)</script>", status="processing", progress=0.4)
    client.force_login(viewer)
    page = client.get("/").content.decode()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "<script>alert(1)" not in page
    assert 'data-status="processing"' in page


def test_library_query_count_does_not_grow_with_assets(client, viewer, owner, django_assert_max_num_queries):
    for index in range(10):
        make_asset(owner, title=f"clip {index}")
    client.force_login(viewer)
    with django_assert_max_num_queries(10):  # one reads the "Contains footage from" badges, one the source filter's choices
        assert client.get("/").status_code == 200


def test_asset_page_shows_player_facts_filmstrip_and_tags(client, viewer, owner):
    asset = make_asset(owner)
    add_frames(asset)
    AssetTag.objects.create(asset=asset, label=TagLabel.objects.get(name="circle"), start=0, end=2, score=0.9)
    client.force_login(viewer)
    page = client.get(f"/assets/{asset.pk}/").content.decode()
    assert f'src="/assets/{asset.pk}/media"' in page
    assert page.count('data-seek="') == 3 + 1  # three frames, one tag
    assert 'style="left: 0.0%; width: 66.667%;"' in page  # 0-2 s of a 3 s video
    assert "circle" in page and "圆形" in page and "320 × 240" in page
    assert "Reprocess" not in page  # a viewer changes nothing


@pytest.mark.parametrize(("query", "selected"), [
    ("?t=0.5&end=2.5", "Selected moment: 0:00–0:02."),  # as a search result links to it
    ("?t=1.2&end=1.7", "Selected moment: 0:01.2–0:01.7."),
    ("?t=1", None), ("?t=2&end=1", None), ("?t=1&end=9", None), ("?t=a&end=2", None), ("?t=nan&end=2", None),
])
def test_asset_page_opened_at_a_moment_says_which_and_offers_to_play_on(client, viewer, owner, query, selected):
    asset = make_asset(owner, title="Flood day one")  # 3 s long
    client.force_login(viewer)
    page = BeautifulSoup(client.get(f"/assets/{asset.pk}/{query}").content, "html.parser")
    box = page.select_one(".moment-selected")
    if selected is None:
        assert box is None and not page.select_one("#player").has_attr("aria-label")
        return
    assert box.p.get_text().startswith(selected)
    assert page.select_one("#player")["aria-label"] == f"Flood day one · {selected.split(': ')[1][:-1]}"
    assert [button.get_text() for button in box.select(".moment-controls button")] == ["Replay moment", "Play on"]


def test_editors_and_admins_see_manage_buttons_on_anyones_asset(client, viewer, editor, admin):
    asset = make_asset(viewer)  # the role decides, not who uploaded
    for user in (editor, admin):
        client.force_login(user)
        page = client.get(f"/assets/{asset.pk}/").content.decode()
        assert "Reprocess" in page and "Delete" in page


def test_delete_form_needs_the_editor_role_and_csrf(owner, viewer, django_capture_on_commit_callbacks):
    from django.test import Client

    asset = make_asset(owner)
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(owner)
    assert strict.post(f"/assets/{asset.pk}/delete").status_code == 403  # no CSRF token
    other = Client()
    other.force_login(viewer)
    assert other.post(f"/assets/{asset.pk}/delete").status_code == 403
    owner_client = Client()
    owner_client.force_login(owner)
    with django_capture_on_commit_callbacks(execute=True):
        response = owner_client.post(f"/assets/{asset.pk}/delete")
    assert response.status_code == 302 and not Asset.objects.filter(pk=asset.pk).exists()


def test_reprocess_form_queues_a_new_run(client, owner, django_capture_on_commit_callbacks):
    asset = make_asset(owner, status="failed", error="boom")
    client.force_login(owner)
    with django_capture_on_commit_callbacks() as callbacks:
        response = client.post(f"/assets/{asset.pk}/reprocess")
    assert response.status_code == 302 and len(callbacks) == 1
    assert Asset.objects.get(pk=asset.pk).status == "queued"


def test_media_supports_byte_ranges_for_seeking(client, viewer, owner):
    content = bytes(range(256)) * 40
    asset = make_asset(owner, content=content)
    client.force_login(viewer)
    whole = client.get(f"/assets/{asset.pk}/media")
    assert whole.status_code == 200 and whole["Accept-Ranges"] == "bytes"
    assert b"".join(whole.streaming_content) == content
    part = client.get(f"/assets/{asset.pk}/media", HTTP_RANGE="bytes=100-199")
    assert part.status_code == 206 and part["Content-Range"] == f"bytes 100-199/{len(content)}"
    assert b"".join(part.streaming_content) == content[100:200]
    tail = client.get(f"/assets/{asset.pk}/media", HTTP_RANGE="bytes=-10")
    assert b"".join(tail.streaming_content) == content[-10:]
    open_ended = client.get(f"/assets/{asset.pk}/media", HTTP_RANGE=f"bytes={len(content) - 5}-")
    assert b"".join(open_ended.streaming_content) == content[-5:]
    beyond = client.get(f"/assets/{asset.pk}/media", HTTP_RANGE=f"bytes={len(content)}-")
    assert beyond.status_code == 416 and beyond["Content-Range"] == f"bytes */{len(content)}"


def test_media_keeps_a_chinese_original_filename(client, viewer, owner):
    asset = make_asset(owner, filename="洪水 桥.mp4")
    client.force_login(viewer)
    response = client.get(f"/assets/{asset.pk}/media")
    assert response.status_code == 200
    assert "filename*=utf-8''%E6%B4%AA%E6%B0%B4" in response["Content-Disposition"]


def test_media_and_thumbnails_accept_the_api_token(client, owner):
    asset = make_asset(owner)
    add_frames(asset)
    header = {"HTTP_AUTHORIZATION": f"Token {api_token_create(user=owner)}"}
    assert client.get(f"/assets/{asset.pk}/media", **header).status_code == 200
    thumb = client.get(f"/assets/{asset.pk}/thumbnail.jpg", **header)
    assert thumb.status_code == 200 and thumb["Content-Type"] == "image/jpeg"
    assert client.get(f"/assets/{asset.pk}/frames/2.jpg", **header).status_code == 200
    assert client.get(f"/assets/{asset.pk}/frames/9.jpg", **header).status_code == 404
    assert client.get(f"/assets/{asset.pk}/media", HTTP_AUTHORIZATION="Token wrong").status_code == 302
