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
