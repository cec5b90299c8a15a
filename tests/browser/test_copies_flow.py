"""A viewer sees that a news piece contains footage from an older asset, plays both sides of the
match from the copies panel, then checks a clip on the check page (nothing is stored)."""

import re

import pytest
from playwright.sync_api import expect

from mediahub.assets.models import Asset
from mediahub.copies.models import Fingerprint, Match
from tests.browser.test_upload_flow import sign_in
from tests.copies.clips import BIKES, BUNNY, excerpt
from tests.library import ingest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("tag_vocabulary")]

PLAYER_AT = "([t]) => { const v = document.getElementById('player'); return v && v.readyState >= 1 && Math.abs(v.currentTime - t) < 0.3; }"


def test_copies_panel_plays_both_sides_and_the_check_page_finds_the_source(page, live_server, viewer, tmp_path):
    source = ingest(BIKES, "Bikes, original")
    piece = ingest(excerpt(tmp_path / "piece.mp4", start=3.0, end=9.0, after=BUNNY), "Evening <b>news</b>")
    [segment] = Match.objects.get(asset=piece, other=source).segments

    sign_in(page, live_server, viewer)
    card = page.locator(f'.card[data-asset-id="{piece.pk}"]')
    expect(card.locator(".footage-badge")).to_have_text("Contains footage from Bikes, original")
    expect(page.locator(f'.card[data-asset-id="{source.pk}"] .footage-badge')).to_have_count(0)  # the older one

    card.locator("a").first.click()
    expect(page.get_by_role("heading", name="Evening <b>news</b>")).to_be_visible()  # escaped, not markup
    expect(page.locator("article .footage-badge")).to_have_text("Contains footage from Bikes, original")
    panel = page.locator("#copies")
    expect(panel).to_contain_text("in Bikes, original")
    panel.locator("button.here").first.click()
    page.wait_for_function(PLAYER_AT, arg=[segment["start"]])

    panel.locator("a.there").first.click()
    expect(page).to_have_url(re.compile(rf"/assets/{source.pk}/\?t={segment['other_start']:g}(\.0)?&end={segment['other_end']:g}(\.0)?$"))
    page.wait_for_function(PLAYER_AT, arg=[segment["other_start"]])
    expect(page.locator("#copies")).to_contain_text("in Evening <b>news</b>")

    counts = (Asset.objects.count(), Fingerprint.objects.count(), Match.objects.count())
    page.get_by_role("link", name="Check a clip").click()
    page.set_input_files("#check-file", str(excerpt(tmp_path / "suspect.mp4", start=1.0, end=7.0)))
    page.get_by_role("button", name="Check").click()
    results = page.locator("#check-results")
    expect(results).to_contain_text("Results for “suspect.mp4”")
    result = results.locator(f'.copy[data-asset-id="{source.pk}"]')
    expect(result).to_contain_text("of the clip =")
    expect(result.locator(".copy-segment a")).to_contain_text("in Bikes, original")
    assert (Asset.objects.count(), Fingerprint.objects.count(), Match.objects.count()) == counts
