"""An editor's day in a real browser, on a phone (390 px) and on a desktop (1280 px): sign in, search, play
a moment, judge it, open its asset, annotate it (title, keywords, do not use), see the badge and the history,
and find the asset by its new title at once. On the phone no page scrolls sideways."""

from pathlib import Path

import pytest
from playwright.sync_api import expect

from mediahub.assets.models import Asset
from mediahub.search.models import Feedback
from tests.browser.test_upload_flow import sign_in
from tests.library import ingest, scene
from workers.ml.demo.video import write_world_video

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("tag_vocabulary")]

PHONE, DESKTOP = 390, 1280
VIDEOS = [  # short, so that indexing them for each test costs little
    ("harbour.mp4", "Harbour at dawn", [scene("square", "green", "white", 3, 1), scene("circle", "red", "blue", 4, 2)]),
    ("council.mp4", "Council meeting", [scene("cross", "white", "black", 3, 5), scene("circle", "red", "green", 4, 7)]),
]


@pytest.fixture(scope="module")
def videos(tmp_path_factory) -> list[tuple[str, str]]:
    """Two test-pattern videos (both show a red circle), encoded once for the module: (path, title)."""
    folder = tmp_path_factory.mktemp("journey")
    made = []
    for name, title, scenes in VIDEOS:
        write_world_video(folder / name, scenes, fps=10, width=320, height=240)
        made.append((str(folder / name), title))
    return made


@pytest.fixture
def library(videos) -> list[Asset]:
    """The videos indexed. Per test, since a live-server test's database is emptied after it."""
    return [ingest(Path(path), title) for path, title in videos]


@pytest.fixture(params=[PHONE, DESKTOP], ids=["phone", "desktop"])
def screen(request, browser):
    context = browser.new_context(viewport={"width": request.param, "height": 844 if request.param == PHONE else 900})
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


def fits_the_width(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def search_for(page, text: str):
    page.get_by_label("Search footage").fill(text)
    page.keyboard.press("Enter")
    return page.locator("li.moment").first


def test_find_play_judge_and_annotate_footage(screen, live_server, editor, library):
    page = screen
    sign_in(page, live_server, editor)
    assert fits_the_width(page)

    first = search_for(page, "红色圆形")
    expect(first).to_be_visible()
    assert fits_the_width(page)
    asset_id = int(first.get_attribute("data-asset-id"))
    start = float(first.get_attribute("data-start"))
    first.get_by_role("button", name="Play").click()
    page.wait_for_function(f"[...document.querySelectorAll('video')].some((v) => v.currentTime > {start} + 0.2)")
    player = page.locator("dialog#moment-player[open]")
    if player.count():  # a player over the page rather than in the card
        player.get_by_role("button", name="Close").click()
    relevant = first.get_by_role("button", name="Relevant", exact=True)
    relevant.click()
    expect(relevant).to_have_attribute("aria-pressed", "true")
    assert Feedback.objects.filter(asset_id=asset_id, action="relevant").exists()

    first.locator("a.title").click()
    title = Asset.objects.get(pk=asset_id).title
    expect(page.get_by_role("heading", name=title, exact=True)).to_be_visible()
    assert fits_the_width(page)
    page.get_by_text("Edit the metadata").click()
    form = page.locator("form.metadata-form")
    new_title = f"Yangtze flood barrier at {page.viewport_size['width']} px"
    form.get_by_label("Title", exact=True).fill(new_title)
    form.get_by_label("Keywords").fill("flood, 洪水")
    form.get_by_label("Rights", exact=True).select_option("do_not_use")
    assert fits_the_width(page)
    form.get_by_role("button", name="Save").click()

    expect(page.locator(".messages")).to_contain_text("Saved: Title, Keywords, Rights.")
    expect(page.get_by_role("heading", name=new_title, exact=True)).to_be_visible()
    expect(page.locator(".asset-head .usage-badge")).to_have_text("Do not use")
    change = page.locator("#history li.change").first
    expect(change).to_contain_text(editor.username)
    expect(change).to_contain_text("Not checked → Do not use")
    expect(change).to_contain_text("— → flood, 洪水")
    expect(page.locator(".newsroom a.keyword-chip")).to_have_text(["flood", "洪水"])
    assert fits_the_width(page)

    found = search_for(page, new_title)
    expect(found).to_have_attribute("data-asset-id", str(asset_id))
    expect(found.locator(".usage-badge")).to_have_text("Do not use")
    assert fits_the_width(page)
