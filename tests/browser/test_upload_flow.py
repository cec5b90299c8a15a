"""A newsroom user in a real browser: sign in, upload two files, watch them process, play from a frame."""

import re

import pytest
from playwright.sync_api import expect

from mediahub.assets.models import Asset
from tests import factories

pytestmark = [pytest.mark.browser, pytest.mark.worker, pytest.mark.django_db(transaction=True),
              pytest.mark.usefixtures("tag_vocabulary")]


def sign_in(page, live_server, user):
    page.goto(f"{live_server.url}/")
    expect(page).to_have_url(re.compile(r"/accounts/login/"))
    page.get_by_label("Username").fill(user.username)
    page.get_by_label("Password").fill(factories.PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Library")).to_be_visible()


def test_upload_page_shows_progress_per_file_and_the_asset_page_seeks(page, live_server, celery_worker, owner,
                                                                      two_scene_video, tmp_path):
    sign_in(page, live_server, owner)
    still = tmp_path / "still.png"
    still.write_bytes(factories.png_bytes(size=(120, 90)))
    page.get_by_role("link", name="Upload").first.click()
    page.locator("#upload-files").set_input_files([str(two_scene_video), str(still)])
    page.get_by_role("button", name="Upload").click()

    rows = page.locator("#upload-list li")
    expect(rows).to_have_count(2)
    expect(rows.nth(0).locator("progress")).to_be_attached()
    for index in range(2):
        expect(rows.nth(index)).to_have_attribute("data-status", "ready", timeout=120_000)

    page.get_by_role("link", name="clip.mp4").click()
    expect(page.get_by_role("heading", name="clip")).to_be_visible()
    expect(page.locator("video#player")).to_be_visible()
    filmstrip = page.locator(".filmstrip [data-seek]")
    expect(filmstrip).to_have_count(6)
    expect(page.locator(".timeline th", has_text="circle")).to_be_visible()
    filmstrip.nth(4).click()
    page.wait_for_function("document.getElementById('player').currentTime >= 3.9")
    expect(filmstrip.nth(4)).to_have_class(re.compile("current"))

    page.get_by_role("link", name="Library").click()
    expect(page.locator(".card[data-status=ready]")).to_have_count(2)


def test_a_bad_file_shows_the_reason_in_the_upload_list(page, live_server, owner, tmp_path):
    sign_in(page, live_server, owner)
    bogus = tmp_path / "broken.mp4"
    bogus.write_bytes(b"not a video at all" * 100)
    page.goto(f"{live_server.url}/upload/")
    page.locator("#upload-files").set_input_files(str(bogus))
    page.get_by_role("button", name="Upload").click()
    expect(page.locator("#upload-list li.failed")).to_contain_text("neither a video nor an image")


def test_a_file_over_the_limit_is_refused_on_the_page_with_the_servers_sentence(page, live_server, owner, tmp_path,
                                                                                settings):
    settings.MAX_UPLOAD_BYTES = 2048
    sign_in(page, live_server, owner)
    big = tmp_path / "big.png"
    big.write_bytes(factories.png_bytes(size=(400, 300)) + bytes(4096))
    page.goto(f"{live_server.url}/upload/")
    page.locator("#upload-files").set_input_files(str(big))
    page.get_by_role("button", name="Upload").click()
    expect(page.locator("#upload-list li.failed")).to_contain_text("larger than the upload limit of 2 KB")
    assert not Asset.objects.exists()
