"""Newsroom metadata on the pages: the asset page's panel, edit form and history, and bulk edit in the library,
by role."""

from datetime import UTC, date, datetime

import pytest
from bs4 import BeautifulSoup
from django.test import Client
from django.utils import translation

from mediahub.assets import services
from mediahub.assets.models import Asset, AssetChange
from tests.assets.test_pages import make_asset

EVERY_FIELD = {
    "title": "Bridge flood, day 2", "description": "River at dawn", "keywords": "flood, bridge，洪水\nflood",
    "location": "Wuhan", "shot_date": "2026-07-02", "source": "Reuters", "credit": "Reuters / J. Doe",
    "rights_status": "do_not_use", "rights_note": "legal hold", "embargo_until": "2030-12-03T09:00",
    "notes": "Check the second shot.",
}


@pytest.fixture
def asset(owner):
    return make_asset(owner, title="Flood at the bridge", description="River at dawn")


def soup_of(response) -> BeautifulSoup:
    return BeautifulSoup(response.content, "html.parser")


def messages_of(page: BeautifulSoup) -> list[str]:
    return [li.get_text(" ", strip=True) for li in page.select(".messages li")]


def field_error(page: BeautifulSoup, name: str) -> str:
    """The error shown in the field's own box on the form."""
    box = page.select_one(f".metadata-form .field-{name}, .bulk-edit .field-{name}")
    return box.select_one(".errorlist").get_text(" ", strip=True)


def history_rows(page: BeautifulSoup) -> list[dict]:
    return [{"head": row.select_one(".change-head").get_text(" ", strip=True),
             "fields": {dt.get_text(strip=True): dt.find_next_sibling("dd").get_text(" ", strip=True)
                        for dt in row.select(".change-fields dt")}}
            for row in page.select("#history li.change")]


def unchanged(asset: Asset) -> bool:
    fresh = Asset.objects.get(pk=asset.pk)
    fields = ("title", "keywords", "location", "shot_date", "source", "credit", "rights_status", "embargo_until")
    return all(getattr(fresh, field) == getattr(asset, field) for field in fields) and not fresh.changes.exists()


# The asset page

def test_everyone_sees_the_newsroom_panel_with_keywords_that_search(client, viewer, owner):
    asset = make_asset(owner, keywords=["flood", "长江 大桥"], location="Wuhan", shot_date=date(2026, 7, 2),
                       source="Reuters", credit="Reuters / J. Doe", rights_status="restricted",
                       rights_note="news use only", notes="Check the second shot.")
    client.force_login(viewer)
    page = soup_of(client.get(f"/assets/{asset.pk}/"))
    panel = page.select_one("section.newsroom")
    chips = {a.get_text(): a["href"] for a in panel.select("a.keyword-chip")}
    assert chips == {"flood": "/search/?q=flood", "长江 大桥": "/search/?q=%E9%95%BF%E6%B1%9F%20%E5%A4%A7%E6%A1%A5"}
    text = panel.get_text(" ", strip=True)
    for shown in ("Wuhan", "July 2, 2026", "Reuters / J. Doe", "Restricted", "news use only", "Check the second shot."):
        assert shown in text
    assert page.select_one(".asset-head .usage-badge.usage-caution").get_text(strip=True) == "Restricted"


def test_a_viewer_gets_no_form_and_a_post_is_refused_changing_nothing(client, viewer, asset):
    client.force_login(viewer)
    page = soup_of(client.get(f"/assets/{asset.pk}/"))
    assert page.select(".metadata-form") == [] and page.select(f"form[action='/assets/{asset.pk}/edit']") == []
    response = client.post(f"/assets/{asset.pk}/edit", EVERY_FIELD)
    assert response.status_code == 403
    assert "Only editors and admins can edit or reprocess assets" in response.content.decode()
    assert unchanged(asset)


def test_an_editor_saves_every_field_and_the_history_says_who_changed_what(client, editor, asset):
    client.force_login(editor)
    form = soup_of(client.get(f"/assets/{asset.pk}/")).select_one(".metadata-form")
    assert form.select_one("[name=title]")["value"] == "Flood at the bridge"  # the current values to start from

    page = soup_of(client.post(f"/assets/{asset.pk}/edit", EVERY_FIELD, follow=True))
    assert messages_of(page) == ["Saved: Title, Keywords, Location, Date shot, Source, Credit, Rights, Rights note, "
                                 "Embargo until (UTC), Notes."]
    asset.refresh_from_db()
    assert (asset.title, asset.keywords, asset.location, asset.shot_date) == (
        "Bridge flood, day 2", ["flood", "bridge", "洪水"], "Wuhan", date(2026, 7, 2))
    assert (asset.source, asset.credit, asset.rights_status, asset.rights_note, asset.notes) == (
        "Reuters", "Reuters / J. Doe", "do_not_use", "legal hold", "Check the second shot.")
    assert asset.embargo_until == datetime(2030, 12, 3, 9, 0, tzinfo=UTC)  # the form's time is UTC
    assert asset.changes.get().via == AssetChange.Via.PAGE

    [row] = history_rows(page)
    assert row["head"].startswith(editor.username) and row["head"].endswith("on the asset page")
    assert row["fields"]["Keywords"] == "— → flood, bridge, 洪水"
    assert row["fields"]["Rights"] == "Not checked → Do not use"
    assert row["fields"]["Date shot"] == "— → July 2, 2026"
    assert row["fields"]["Embargo until (UTC)"] == "— → Dec. 3, 2030, 9 a.m. UTC"
    assert row["fields"]["Title"] == "Flood at the bridge → Bridge flood, day 2"
    assert "Description" not in row["fields"]  # unchanged fields are not listed
    assert [b.get_text(strip=True) for b in page.select(".asset-head .usage-badge")] == [
        "Embargoed until 2030-12-03 09:00 UTC", "Do not use"]


def test_saving_the_same_values_changes_nothing_and_says_so(client, editor, asset):
    client.force_login(editor)
    form = soup_of(client.get(f"/assets/{asset.pk}/")).select_one(".metadata-form")
    values = {field["name"]: field.get("value", field.get_text()) for field in form.select("input[name], textarea")}
    page = soup_of(client.post(f"/assets/{asset.pk}/edit", values, follow=True))
    assert messages_of(page) == ["Nothing changed: the values are the ones already saved."]
    assert not asset.changes.exists()


@pytest.mark.parametrize("field, typed, sentence", [
    ("title", " ", "This field may not be blank."),
    ("shot_date", "2099-01-01", "The date shot can't be in the future."),
    ("embargo_until", "next week", "Datetime has wrong format."),
    ("keywords", "flood, " + "x" * 101, "Ensure this field has no more than 100 characters."),
    ("rights_status", "maybe", 'must be cleared, restricted or do_not_use, not "maybe".'),
])
def test_a_refused_value_is_explained_by_its_field_and_nothing_is_saved(client, editor, asset, field, typed, sentence):
    client.force_login(editor)
    response = client.post(f"/assets/{asset.pk}/edit", {**EVERY_FIELD, field: typed})
    assert response.status_code == 400
    page = soup_of(response)
    assert field_error(page, field).startswith(sentence)
    assert messages_of(page)[0].startswith("Nothing was saved.")
    assert page.select_one("details.asset-edit").has_attr("open")
    assert page.select_one(".metadata-form [name=location]")["value"] == "Wuhan"  # what was typed is kept
    assert page.select_one(".metadata-form [name=notes]").get_text(strip=True) == "Check the second shot."
    assert unchanged(asset)


def test_history_shows_the_last_20_changes_and_links_to_older_ones(client, viewer, editor, asset):
    for number in range(1, 23):
        services.asset_update(asset=asset, user=editor, title=f"Take {number}")
    client.force_login(viewer)
    first = soup_of(client.get(f"/assets/{asset.pk}/"))
    rows = history_rows(first)
    assert len(rows) == 20 and rows[0]["fields"]["Title"] == "Take 21 → Take 22"
    assert rows[0]["head"].endswith("through the API")
    older = first.select_one("#history a[href='?history=2#history']")
    assert older.get_text(strip=True) == "older changes →"
    rest = history_rows(soup_of(client.get(f"/assets/{asset.pk}/", {"history": 2})))
    assert [row["fields"]["Title"] for row in rest] == ["Take 1 → Take 2", "Flood at the bridge → Take 1"]


def test_history_dates_follow_the_page_language(client, viewer, editor, asset):
    services.asset_update(asset=asset, user=editor, shot_date=date(2026, 7, 2))
    client.force_login(viewer)
    with translation.override("zh-hans"):  # as LocaleMiddleware does for a Chinese browser
        page = soup_of(client.get(f"/assets/{asset.pk}/", HTTP_ACCEPT_LANGUAGE="zh-hans"))
    [row] = history_rows(page)
    assert list(row["fields"].values()) == ["— → 2026年7月2日"]
    assert "年" in row["head"]  # when it was changed, too


def test_the_history_costs_the_same_queries_whatever_its_length(client, viewer, editor, owner,
                                                                 django_assert_max_num_queries):
    short, long = make_asset(owner, title="short", content=b"1"), make_asset(owner, title="long", content=b"2")
    services.asset_update(asset=short, user=editor, location="Wuhan")
    for number in range(30):
        services.asset_update(asset=long, user=editor, location=f"Place {number}", keywords=[str(number)])
    client.force_login(viewer)
    client.get(f"/assets/{short.pk}/")  # the session and permissions are cached alike for both
    with django_assert_max_num_queries(14) as short_queries:  # two of them read the history: a count and a page
        client.get(f"/assets/{short.pk}/")
    with django_assert_max_num_queries(len(short_queries.captured_queries)):
        assert len(history_rows(soup_of(client.get(f"/assets/{long.pk}/")))) == 20


# Bulk edit in the library

@pytest.fixture
def three(owner):
    return [make_asset(owner, title=f"clip {n}", credit="staff", content=bytes([n]) * 100) for n in range(3)]


def test_a_viewer_sees_no_checkboxes_and_a_bulk_post_is_refused(client, viewer, three):
    client.force_login(viewer)
    page = soup_of(client.get("/"))
    assert page.select("input[form=bulk-edit]") == [] and page.select("#bulk-edit") == []
    response = client.post("/assets/bulk-edit", {"asset": [three[0].pk], "source": "AP"})
    assert response.status_code == 403
    assert not Asset.objects.filter(source="AP").exists()


def test_bulk_edit_sets_the_filled_fields_on_the_selected_assets_only(client, editor, three):
    client.force_login(editor)
    library = soup_of(client.get("/"))
    assert {int(box["value"]) for box in library.select(".card input[type=checkbox][form=bulk-edit]")} == {a.pk for a in three}
    picked, other = three[:2], three[2]
    page = soup_of(client.post("/assets/bulk-edit?kind=video", {
        "asset": [a.pk for a in picked], "source": "Reuters", "credit": "", "rights_status": "restricted",
        "rights_note": "", "embargo_until": "2030-01-01T08:00"}, follow=True))
    assert messages_of(page) == ["2 assets updated: Source, Rights, Embargo until (UTC)."]
    for asset in picked:
        asset.refresh_from_db()
        assert (asset.source, asset.rights_status, asset.credit) == ("Reuters", "restricted", "staff")  # credit left empty: kept
        assert asset.embargo_until == datetime(2030, 1, 1, 8, 0, tzinfo=UTC)
        change = asset.changes.get()
        assert (change.via, change.username) == ("bulk", editor.username)
        assert set(change.changes) == {"source", "rights_status", "embargo_until"}
    assert unchanged(other)
    assert page.select_one("select[name=kind] option[selected]")["value"] == "video"  # back to the same view


def test_select_all_on_the_page_works_without_javascript(client, editor, three):
    client.force_login(editor)
    page_assets = [int(i["value"]) for i in soup_of(client.get("/")).select("#bulk-edit input[name=page_asset]")]
    client.post("/assets/bulk-edit", {"all": "1", "page_asset": page_assets, "credit": "AFP"})
    assert set(Asset.objects.filter(credit="AFP").values_list("pk", flat=True)) == {a.pk for a in three}


def test_bulk_edit_clears_an_embargo(client, editor, three):
    Asset.objects.filter(pk=three[0].pk).update(embargo_until=datetime(2030, 1, 1, tzinfo=UTC))
    client.force_login(editor)
    client.post("/assets/bulk-edit", {"asset": [three[0].pk], "clear_embargo": "on"})
    three[0].refresh_from_db()
    assert three[0].embargo_until is None
    assert three[0].changes.get().changes == {"embargo_until": {"from": "2030-01-01T00:00:00Z", "to": None}}


@pytest.mark.parametrize("form, field, sentence", [
    ({"embargo_until": "2026-13-45T99:00", "source": "AP"}, "embargo_until", "Datetime has wrong format."),
    ({"embargo_until": "2030-01-01T08:00", "clear_embargo": "on"}, "embargo_until",
     "Either give a new embargo or clear it, not both."),
    ({"source": "x" * 201}, "source", "Ensure this field has no more than 200 characters."),
])
def test_a_refused_bulk_edit_explains_itself_and_changes_nothing(client, editor, three, form, field, sentence):
    client.force_login(editor)
    response = client.post("/assets/bulk-edit", {"asset": [three[0].pk, three[1].pk], **form})
    assert response.status_code == 400
    page = soup_of(response)
    assert field_error(page, field).startswith(sentence)
    assert messages_of(page)[0].startswith("Nothing was changed.")
    assert page.select_one("#bulk-panel").has_attr("open")
    ticked = {int(box["value"]) for box in page.select(".card input[form=bulk-edit][checked]")}
    assert ticked == {three[0].pk, three[1].pk}  # the selection is kept for the next try
    assert all(unchanged(asset) for asset in three)


def test_a_bulk_edit_with_nothing_filled_or_nothing_selected_says_what_is_missing(client, editor, three):
    client.force_login(editor)
    empty = client.post("/assets/bulk-edit", {"asset": [three[0].pk], "source": " "})
    assert messages_of(soup_of(empty)) == [
        "Nothing was changed. Fill in at least one field to set; empty fields are left as they are."]
    nothing_ticked = client.post("/assets/bulk-edit", {"source": "AP"})
    assert messages_of(soup_of(nothing_ticked)) == ["Nothing was changed. Select the assets to change first."]
    assert all(unchanged(asset) for asset in three)


@pytest.mark.parametrize("url", ["/assets/{pk}/edit", "/assets/bulk-edit"])
def test_the_forms_need_their_csrf_token(editor, asset, url):
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(editor)
    assert strict.post(url.format(pk=asset.pk), {**EVERY_FIELD, "asset": [asset.pk]}).status_code == 403
    assert unchanged(asset)
