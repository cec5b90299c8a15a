"""Text matching goes through GIN indexes (assets migration 0006), not a scan of every asset."""

import pytest
from django.db import connection, transaction

from mediahub.assets.models import Asset
from mediahub.search import selectors

pytestmark = pytest.mark.django_db


def _asset(title: str, description: str = "") -> Asset:
    return Asset.objects.create(title=title, description=description, original=f"originals/{title}.mp4",
                                original_filename=f"{title}.mp4", size_bytes=1, sha256=title.ljust(64, "0"),
                                kind="video")


def test_text_matching_finds_words_in_titles_and_descriptions():
    flood = _asset("Bridge at dawn", "The river floods the old bridge")
    _asset("Parliament", "A vote on the budget")
    chinese = _asset("天气预报", "明天有雨")
    assert set(selectors.text_matches(query="floods", filters=selectors.SearchFilters())) == {flood.pk}
    assert set(selectors.text_matches(query="有雨", filters=selectors.SearchFilters())) == {chinese.pk}


@pytest.mark.parametrize("query", ["flood bridge", "洪水"])
def test_every_arm_of_the_text_match_can_use_an_index(query):
    _asset("Bridge at dawn", "The river floods the old bridge")
    sql, params = selectors.text_match_query(query=query, filters=selectors.SearchFilters())
    with transaction.atomic(), connection.cursor() as cursor:
        # A tiny table is cheaper to scan; ask whether the indexes can serve the condition at all.
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("EXPLAIN " + sql, params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "asset_text_fts" in plan  # the full-text arm uses the GIN index over the same expression
    assert "asset_description_trgm" in plan and "asset_title_trgm" in plan
    assert "Seq Scan" not in plan
