"""Text matching (titles, descriptions, keywords, locations) goes through GIN indexes (assets migration 0009),
not a scan of every asset."""

import pytest
from django.db import connection

from mediahub.assets.models import Asset
from mediahub.search import selectors

pytestmark = pytest.mark.django_db


def _asset(title: str, description: str = "", **metadata) -> Asset:
    return Asset.objects.create(title=title, description=description, original=f"originals/{title}.mp4",
                                original_filename=f"{title}.mp4", size_bytes=1, sha256=title.ljust(64, "0"),
                                kind="video", **metadata)


def test_text_matching_finds_words_in_titles_and_descriptions():
    flood = _asset("Bridge at dawn", "The river floods the old bridge")
    _asset("Parliament", "A vote on the budget")
    chinese = _asset("天气预报", "明天有雨")
    assert set(selectors.text_matches(query="floods", filters=selectors.SearchFilters())) == {flood.pk}
    assert set(selectors.text_matches(query="有雨", filters=selectors.SearchFilters())) == {chinese.pk}


def test_keywords_and_locations_are_found_in_both_languages():
    flood = _asset("Clip 1", keywords=["Flood", "洪水"], location="Wuhan 武汉")
    _asset("Clip 2", keywords=["parliament"], location="London")
    for query in ("flood", "FLOOD", "洪水", "wuhan", "武汉"):
        assert set(selectors.text_matches(query=query, filters=selectors.SearchFilters())) == {flood.pk}, query


def test_a_keyword_named_inside_a_longer_query_is_a_full_match():
    flood = _asset("Clip 1", "Aerial pictures", keywords=["flood", "长江"])
    assert selectors.text_matches(query="the flood at night", filters=selectors.SearchFilters()) == {flood.pk: 1.0}
    assert selectors.text_matches(query="长江大桥", filters=selectors.SearchFilters()) == {flood.pk: 1.0}


def test_a_substring_never_spans_two_fields():
    _asset("长江边", "大桥夜景", keywords=["洪水"], location="武汉")
    for query in ("江边大桥", "景洪", "水武"):  # the end of one field and the start of the next
        assert selectors.text_matches(query=query, filters=selectors.SearchFilters()) == {}, query


@pytest.fixture
def big_library():
    """5,000 assets, analysed: twice what the planner needs to prefer an index to reading every row (at 1,000 it reads
    them all)."""
    Asset.objects.bulk_create([
        Asset(title=f"Clip {n}", description=f"Routine footage number {n}", keywords=[f"word{n}"], location="Town",
              original=f"originals/{n}.mp4", original_filename=f"{n}.mp4", size_bytes=1,
              sha256=f"{n:064d}", kind="video") for n in range(5_000)], batch_size=5000)
    _asset("Bridge at dawn", "The river floods the old bridge", keywords=["洪水"], location="武汉")
    with connection.cursor() as cursor:  # as autovacuum leaves it: GIN pending lists merged, statistics taken
        cursor.execute("SELECT gin_clean_pending_list(indexrelid) FROM pg_index JOIN pg_class c ON c.oid = indexrelid"
                       " JOIN pg_am am ON am.oid = c.relam WHERE indrelid = 'assets_asset'::regclass AND am.amname = 'gin'")
        cursor.execute("ANALYZE assets_asset")


SUBSTRING_INDEXES = {"flood bridge": "asset_search_trgm", "floods": "asset_search_trgm",
                     "洪水": "asset_search_bigrams", "武汉": "asset_search_bigrams"}  # 2 characters hold no trigram


def test_every_arm_of_the_text_match_uses_its_index(big_library):
    for query, substring_index in SUBSTRING_INDEXES.items():
        sql, params = selectors.text_match_query(query=query, filters=selectors.SearchFilters())
        with connection.cursor() as cursor:
            cursor.execute("EXPLAIN " + sql, params)
            plan = "\n".join(row[0] for row in cursor.fetchall())
        for index in ("asset_search_fts", "asset_title_trgm", substring_index, "asset_keywords_folded"):
            assert index in plan, (query, index, plan)  # full text, fuzzy titles, substrings, keywords named
        assert "Seq Scan" not in plan, (query, plan)
        assert selectors.text_matches(query=query, filters=selectors.SearchFilters()), query  # and they find it
