"""Bulk edit on a phone: tick cards, the bar counts them and opens the panel, one source and rights for all."""

import pytest
from playwright.sync_api import expect

from mediahub.assets.models import Asset
from tests.assets.test_pages import make_asset
from tests.browser.test_upload_flow import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_tick_two_cards_and_set_their_source_and_rights(browser, live_server, editor, owner):
    assets = [make_asset(owner, title=f"Storm take {n}", content=bytes([n]) * 100) for n in range(3)]
    context = browser.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    page.set_default_timeout(15_000)
    sign_in(page, live_server, editor)
    bar = page.locator(".bulk-bar")
    expect(bar).to_be_hidden()

    for asset in assets[:2]:
        page.get_by_label(f"Select “{asset.title}”").check()
    expect(bar).to_have_text("Edit 2 selected assets")
    bar.get_by_role("button").click()
    panel = page.locator("#bulk-panel")
    expect(panel.get_by_label("Source")).to_be_focused()
    expect(bar).to_be_hidden()  # the panel is open: the bar would only cover the page
    panel.get_by_label("Source").fill("Reuters")
    panel.get_by_label("Rights", exact=True).select_option("restricted")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    panel.get_by_role("button", name="Apply to the selected assets").click()

    expect(page.locator(".messages")).to_have_text("2 assets updated: Source, Rights.")
    for asset in assets[:2]:
        expect(page.locator(f"li.card[data-asset-id='{asset.pk}'] .usage-badge")).to_have_text("Restricted")
    assert list(Asset.objects.filter(source="Reuters").order_by("pk").values_list("pk", flat=True)) == [
        a.pk for a in assets[:2]]
    context.close()
