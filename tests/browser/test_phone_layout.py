"""Every main page at phone width (390 px) and on a desktop (1280 px): nothing scrolls sideways, the
key controls are on screen, and on the phone they are big enough to tap.

One library (two processed videos, a still, a brief, a person) serves every page; the test walks
them all at both widths and reports every problem at once. With MEDIAHUB_SCREENSHOTS=<dir> it also
saves a full-page screenshot of each page at each width, for a person to look at.
"""

import os
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.test import Client
from playwright.sync_api import expect

from mediahub.briefs.services import brief_create
from tests import factories
from tests.assets.test_pages import make_asset
from tests.library import LIBRARY, STILL, ingest
from workers.ml.demo.video import write_world_image, write_world_video

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("tag_vocabulary")]

PHONE, DESKTOP = {"width": 390, "height": 844}, {"width": 1280, "height": 900}
TAP_HEIGHT = 40  # px: the smallest comfortable touch target, less a little rounding
SITE = ["header.topbar nav", "form.searchbox input", "form.searchbox button"]


@pytest.fixture
def newsroom(tmp_path, owner):
    """Two processed videos and a still, a brief over them, and a person seen in one of them."""
    assets = []
    for name, title, scenes in LIBRARY[:2]:
        write_world_video(tmp_path / name, scenes, fps=10, width=320, height=240)
        assets.append(ingest(tmp_path / name, title))
    name, title, still = STILL
    write_world_image(tmp_path / name, still)
    assets.append(ingest(tmp_path / name, title))
    brief = brief_create(owner=owner, title="Evening bulletin",
                         text="a red circle on a blue background\n黑色背景上的黄色星形")
    person = factories.person("Wang Wei")
    factories.face_track(asset=assets[0], start=1.0, end=4.0, person=person)
    return {"video": assets[0], "still": assets[2], "brief": brief, "person": person}


def pages_to_check(site) -> list[tuple[str, list[str]]]:
    """(path, the selectors of its key controls) for every main page."""
    video, brief, person = site["video"], site["brief"], site["person"]
    return [
        ("/", SITE + [".filters select", ".filters button", "#library .card"]),
        ("/search/?q=a+red+circle", SITE + ["form.search-filters button[type=submit]",
                                             "form.search-filters input[type=date]", "li.moment", "li.moment .judge"]),
        (f"/assets/{video.pk}/", SITE + ["#player", "table.timeline", ".shots .shot", ".asset-edit summary",
                                         "dl.facts", ".asset-head button"]),
        (f"/assets/{site['still'].pk}/", SITE + ["#still", "dl.facts"]),
        ("/briefs/", SITE + [".brief-form textarea", ".brief-form button[type=submit]", "table.briefs"]),
        (f"/briefs/{brief.pk}/", SITE + ["li.beat", "li.beat .moment", ".exports", ".board-filters summary"]),
        ("/people/", SITE + ["#people .card", "#people .card form.rename button"]),
        (f"/people/{person.pk}/", SITE + [".person-edit button", ".appearances li"]),
        ("/upload/", SITE + ["#upload-form .dropzone", "#upload-form button"]),
        ("/copies/check/", SITE + ["#check-form button"]),
        ("/assets/987654/", SITE + ["main a[href='/']"]),
        ("/ops/", SITE + [".ops-queues table", ".ops-throughput table", ".failure-group .retry-all button",
                          ".failure-group .failed-assets a"]),  # as an admin
        ("/?signed-out", ["form.language select"]),
    ]


def layout_problems(page, selectors, *, phone: bool) -> list[str]:
    problems = []
    sideways = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    if sideways > 0:
        problems.append(f"scrolls sideways by {sideways} px")
    width = page.viewport_size["width"]
    for selector in selectors:
        control = page.locator(selector).first
        if not control.count() or not control.is_visible():
            problems.append(f"{selector} is not visible")
            continue
        control.scroll_into_view_if_needed()
        box = control.bounding_box()
        if box["x"] < -0.5 or box["x"] + box["width"] > width + 0.5:
            problems.append(f"{selector} runs off the screen ({box['x']:.0f} to {box['x'] + box['width']:.0f} px)")
        tappable = control.evaluate("e => ['BUTTON', 'INPUT', 'SELECT', 'SUMMARY'].includes(e.tagName)")
        if phone and tappable and box["height"] < TAP_HEIGHT - 0.5:
            problems.append(f"{selector} is {box['height']:.0f} px tall, too small to tap")
    return problems


def session_cookie(user, live_server) -> dict:
    client = Client()
    client.force_login(user)
    return {"name": settings.SESSION_COOKIE_NAME, "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
            "domain": urlsplit(live_server.url).hostname, "path": "/"}


def test_every_main_page_fits_a_phone_and_a_desktop(browser, live_server, newsroom, owner, admin):
    screenshots = Path(os.environ["MEDIAHUB_SCREENSHOTS"]) if os.environ.get("MEDIAHUB_SCREENSHOTS") else None
    session, admin_session = session_cookie(owner, live_server), session_cookie(admin, live_server)
    make_asset(owner, title="Interview, raw", status="failed", error=(
        "The frames step could not decode this file: the stream ends in the middle of a frame "
        "(/data/uploads/2026/12/01/interview_raw_camera_b_final_final.mp4); upload it again or use Reprocess."))
    problems = []
    # The phone in both languages (the labels' lengths differ), the desktop in English.
    for viewport, locale in ((PHONE, "en-US"), (PHONE, "zh-CN"), (DESKTOP, "en-US")):
        context = browser.new_context(viewport=viewport, locale=locale)
        context.add_cookies([session])
        page = context.new_page()
        page.set_default_timeout(15_000)
        where = f"at {viewport['width']} px in {locale}"
        for path, selectors in pages_to_check(newsroom):
            if path in ("/ops/", "/?signed-out"):
                context.clear_cookies()
                if path == "/ops/":
                    context.add_cookies([admin_session])
            page.goto(f"{live_server.url}{path}")
            expect(page.locator("html")).to_have_attribute("lang", "zh-hans" if locale == "zh-CN" else "en")
            problems += [f"{path} {where}: {p}" for p in layout_problems(page, selectors, phone=viewport is PHONE)]
            if path.startswith("/search/"):
                problems += [f"the moment player {where}: {p}" for p in player_problems(page)]
            if screenshots:
                name = path.strip("/").replace("/", "-").replace("?", "-") or "library"
                page.screenshot(path=screenshots / f"{viewport['width']}-{locale}-{name}.png", full_page=True)
        context.close()
    assert not problems, "\n".join(problems)


def player_problems(page) -> list[str]:
    """Play the first moment: its player (in a dialog or in the card) must fit the screen."""
    page.locator("li.moment .play").first.click()
    player = page.locator("dialog[open] video, li.moment video").first
    expect(player).to_be_visible()
    problems = layout_problems(page, ["dialog[open] video, li.moment video"], phone=page.viewport_size["width"] < 640)
    dialog = page.locator("dialog[open]")
    if dialog.count():
        problems += layout_problems(page, ["dialog[open] form button"], phone=page.viewport_size["width"] < 640)
        dialog.locator("form button").first.click()
        expect(dialog).to_have_count(0)
    return problems
