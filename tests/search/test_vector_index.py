"""The coarse pass really goes through the model's HNSW index, filters included."""

import numpy as np
import pytest
from django.db import connection

from mediahub.search import selectors
from mediahub.search.forms import SearchFiltersForm

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("filters", [{}, {"kind": "video", "tag": "circle"}])
def test_the_ann_query_can_use_the_models_hnsw_index(library, filters):
    model, _ = selectors.search_model(spec=selectors.active_clip_spec())
    form = SearchFiltersForm(filters)
    assert form.is_valid()
    vector = np.ones(model.dim, dtype=np.float32) / np.sqrt(model.dim)
    sql, params = selectors.ann_query(vector=vector, model=model, filters=form.filters(), limit=300)
    with connection.cursor() as cursor:
        # The test library is tiny, so a scan and a sort would win; ask whether the index can serve the query.
        cursor.execute("SET LOCAL enable_seqscan = off; SET LOCAL enable_bitmapscan = off; SET LOCAL enable_sort = off")
        cursor.execute("EXPLAIN " + sql, params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert f"Index Scan using {model.index_name}" in plan


@pytest.mark.django_db(transaction=True)  # autocommit, as in a web request: no transaction around the search
def test_the_coarse_pass_returns_as_many_candidates_as_asked_not_the_index_default(library, index_scans_only):
    model, _ = selectors.search_model(spec=selectors.active_clip_spec())
    vector = selectors.text_query_vector(spec=selectors.active_clip_spec(), text="a red circle")
    seconds = sum(round(end - start) or 1 for bounds in library.truth.values() for start, end, _ in bounds)
    assert seconds > 100
    # pgvector's default hnsw.ef_search (40) would cap this at 40; a selective filter needs the iterative scan.
    assert len(selectors.ann_candidates(vector=vector, model=model, filters=selectors.SearchFilters(), limit=100)) == 100
    parade = library.assets["parade.mp4"]  # 42 of the library's seconds
    in_parade = selectors.ann_candidates(vector=vector, model=model, filters=selectors.SearchFilters(asset=parade.pk),
                                         limit=100, plan=selectors.CoarsePlan(exact=False))  # the index, as for a broad filter
    # Without the iterative scan only the parade's share of the 40 nearest (~15) would survive the filter;
    # with it the scan walks on (an approximate index may still miss a few seconds).
    assert len(in_parade) >= 30 and {asset_id for asset_id, _ in in_parade} == {parade.pk}
