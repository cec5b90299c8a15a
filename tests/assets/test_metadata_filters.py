"""The source, rights and embargo filters of GET /api/assets and the library page."""

from datetime import timedelta

import pytest
from django.utils import timezone

from mediahub.assets.models import Asset
from tests.assets.test_pages import make_asset


@pytest.fixture
def assets(owner):
    """Four assets: Reuters cleared, AP restricted under embargo, reuters (other case) do-not-use whose
    embargo has passed, and one nobody has checked."""
    now = timezone.now()
    return {
        "cleared": make_asset(owner, title="Cleared", content=b"1", source="Reuters", rights_status="cleared"),
        "embargoed": make_asset(owner, title="Embargoed", content=b"2", source="AP", rights_status="restricted",
                                embargo_until=now + timedelta(hours=2)),
        "past": make_asset(owner, title="Embargo passed", content=b"3", source="reuters", rights_status="do_not_use",
                           embargo_until=now - timedelta(hours=2)),
        "unchecked": make_asset(owner, title="Unchecked", content=b"4"),
    }


def listed(api, **params) -> set[str]:
    response = api.get("/api/assets", params)
    assert response.status_code == 200, response.content
    return {asset["title"] for asset in response.json()["results"]}


@pytest.mark.parametrize("params, titles", [
    ({"source": "REUTERS"}, {"Cleared", "Embargo passed"}),
    ({"source": "ap"}, {"Embargoed"}),
    ({"rights": "restricted"}, {"Embargoed"}),
    ({"rights": "unset"}, {"Unchecked"}),
    ({"embargoed": "true"}, {"Embargoed"}),
    ({"embargoed": "false"}, {"Cleared", "Embargo passed", "Unchecked"}),
    ({"source": "reuters", "rights": "cleared"}, {"Cleared"}),
])
def test_the_asset_list_filters_by_source_rights_and_embargo(viewer_api, assets, params, titles):
    assert listed(viewer_api, **params) == titles


@pytest.mark.parametrize("query, detail", [
    ("rights=maybe", "rights must be one of cleared, restricted, do_not_use, unset, not 'maybe'."),
    ("embargoed=yes", "embargoed must be one of true, false, not 'yes'."),
])
def test_bad_filter_values_are_400_sentences(viewer_api, query, detail):
    response = viewer_api.get(f"/api/assets?{query}")
    assert response.status_code == 400 and response.json() == {"detail": detail}


def library_titles(page: str, assets: dict) -> set[str]:
    return {asset.title for asset in assets.values() if f'href="/assets/{asset.pk}/"' in page}


def test_the_library_page_filters_and_offers_the_librarys_sources(client, viewer, assets):
    client.force_login(viewer)
    page = client.get("/", {"source": "Reuters", "embargoed": "false"}).content.decode()
    assert library_titles(page, assets) == {"Cleared", "Embargo passed"}
    assert page.count('<option value="AP"') == 1 and page.count('<option value="Reuters" selected') == 1
    assert '<option value="reuters"' not in page  # one entry per source whatever its case
    assert library_titles(client.get("/", {"rights": "unset"}).content.decode(), assets) == {"Unchecked"}


def test_the_library_page_refuses_a_bad_filter_with_a_sentence(client, viewer, assets):
    client.force_login(viewer)
    response = client.get("/", {"rights": "maybe"})
    assert response.status_code == 400
    assert "rights must be one of cleared, restricted, do_not_use, unset, not &#x27;maybe&#x27;." in response.content.decode()


def test_the_source_filter_can_use_its_index_in_the_list_and_in_search(assets):
    from django.db import connection, transaction

    from mediahub.assets.selectors import assets_with_metadata
    from mediahub.search import selectors as search_selectors

    listed = assets_with_metadata(Asset.objects.order_by(), source="reuters")  # unordered: no other index is wanted
    listed_sql, listed_params = listed.query.sql_with_params()
    searched_sql, searched_params = search_selectors.text_match_query(
        query="clip", filters=search_selectors.SearchFilters(source="reuters"))
    for sql, params in ((listed_sql, listed_params), (searched_sql, searched_params)):
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("ANALYZE assets_asset")  # the statistics of this test's table, not an earlier test's
            cursor.execute("SET LOCAL enable_seqscan = off")  # a tiny table: can the index serve it at all?
            cursor.execute("EXPLAIN " + sql, params)
            assert "asset_source_upper" in "\n".join(row[0] for row in cursor.fetchall())
