"""Footage under embargo, marked do not use or restricted is badged wherever its cards appear: the library,
search results, a brief's board and the asset page, at no extra query per card."""

from datetime import UTC, datetime, timedelta

import pytest
from bs4 import BeautifulSoup

from mediahub.assets.models import Asset
from mediahub.briefs.services import brief_create
from tests.assets.test_pages import make_asset
from tests.conftest import GREEN_SQUARE, RED_CIRCLE
from tests.library import ingest
from workers.ml.demo.video import write_world_video

pytestmark = pytest.mark.django_db

FUTURE = datetime(2099, 12, 3, 9, 0, tzinfo=UTC)


@pytest.fixture
def footage(tmp_path) -> Asset:
    """One indexed video: a red circle on blue, then a green square (inside the test's transaction, so
    everything the pipeline writes goes with it)."""
    path = tmp_path / "harbour.mp4"
    write_world_video(path, [RED_CIRCLE, GREEN_SQUARE], fps=10, width=320, height=240)
    return ingest(path, "Harbour at dawn")


def badges(html: bytes, asset_id: int, card: str) -> list[tuple[str, str]]:
    """(text, colour class) of the usage badges on the asset's card."""
    found = BeautifulSoup(html, "html.parser").select_one(f"{card}[data-asset-id='{asset_id}']")
    assert found is not None, f"no card of asset {asset_id}"
    return [(badge.get_text(strip=True), next(c for c in badge["class"] if c in ("usage-stop", "usage-caution")))
            for badge in found.select(".usage-badge")]


def set_usage(asset: Asset, **fields) -> None:
    Asset.objects.filter(pk=asset.pk).update(**fields)


@pytest.mark.parametrize("fields, expected", [
    ({"embargo_until": FUTURE}, [("Embargoed until 2099-12-03 09:00 UTC", "usage-stop")]),
    ({"embargo_until": datetime(2020, 1, 1, tzinfo=UTC)}, []),  # the embargo has passed
    ({"rights_status": "do_not_use", "rights_note": "legal hold"}, [("Do not use", "usage-stop")]),
    ({"rights_status": "restricted"}, [("Restricted", "usage-caution")]),
    ({"rights_status": "cleared"}, []),
    ({"rights_status": "do_not_use", "embargo_until": FUTURE},
     [("Embargoed until 2099-12-03 09:00 UTC", "usage-stop"), ("Do not use", "usage-stop")]),
])
def test_library_cards_and_the_asset_page_carry_the_badges(client, viewer, owner, fields, expected):
    asset = make_asset(owner, **fields)
    client.force_login(viewer)
    assert badges(client.get("/").content, asset.pk, "li.card") == expected
    assert badges(client.get(f"/assets/{asset.pk}/").content, asset.pk, "article.asset") == expected


def test_a_badge_carries_the_whole_warning_for_a_reader(client, viewer, owner):
    asset = make_asset(owner, rights_status="do_not_use", rights_note="legal hold until the trial ends")
    client.force_login(viewer)
    card = BeautifulSoup(client.get("/").content, "html.parser").select_one(f"li.card[data-asset-id='{asset.pk}']")
    assert card.select_one(".usage-badges")["aria-label"] == "Do not use: legal hold until the trial ends"
    assert card.select_one(".usage-badge")["title"] == "Do not use: legal hold until the trial ends"


def test_badges_cost_no_query_per_card(client, editor, owner, django_assert_max_num_queries):
    for index in range(10):
        make_asset(owner, title=f"clip {index}", rights_status="do_not_use", embargo_until=FUTURE)
    client.force_login(editor)  # an editor's library also has the bulk edit form and checkboxes
    with django_assert_max_num_queries(10):  # as without badges (tests/assets/test_pages.py)
        html = client.get("/").content
    assert html.count(b"usage-do-not-use") == 10


def test_search_results_carry_the_badges(client, editor, footage):
    client.force_login(editor)
    set_usage(footage, embargo_until=FUTURE)
    assert badges(client.get("/search/", {"q": "红色圆形"}).content, footage.pk, "li.moment") == [
        ("Embargoed until 2099-12-03 09:00 UTC", "usage-stop")]
    set_usage(footage, embargo_until=datetime.now(UTC) - timedelta(minutes=1))
    assert badges(client.get("/search/", {"q": "红色圆形"}).content, footage.pk, "li.moment") == []


def test_brief_board_cards_carry_the_badges(client, editor, footage):
    set_usage(footage, rights_status="do_not_use")
    brief = brief_create(owner=editor, text="a red circle on a blue background")
    client.force_login(editor)
    assert badges(client.get(f"/briefs/{brief.pk}/").content, footage.pk, "li.moment") == [("Do not use", "usage-stop")]
