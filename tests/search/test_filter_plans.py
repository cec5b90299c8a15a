"""The coarse pass's two plans, picked by how many seconds a filter passes: every passing second scored
exactly (a narrow filter), or the HNSW index walked with the filter applied (a broad one). A narrow
filter must find all of its few seconds, not some of them; a broad one the same nearest seconds either way."""

from datetime import timedelta

import numpy as np
import pytest

from mediahub.assets.models import Asset, AssetTag
from mediahub.search import selectors
from mediahub.search.models import FrameEmbedding
from mediahub.search.selectors import CoarsePlan, SearchFilters
from tests import factories

pytestmark = pytest.mark.django_db

EXACT, INDEX = CoarsePlan(exact=True), CoarsePlan(exact=False)


@pytest.fixture
def model(library):
    return selectors.search_model(spec=selectors.active_clip_spec())[0]


def nearest_passing(model, vector, passes, limit) -> list[tuple[int, float]]:
    """The exact nearest seconds among those `passes(asset_id, time)` accepts, nearest first, in numpy."""
    rows = [(a, t, np.asarray(v, dtype=np.float32)) for a, t, v in
            FrameEmbedding.objects.filter(model=model).values_list("asset_id", "time", "embedding") if passes(a, t)]
    rows.sort(key=lambda row: -float(row[2] @ vector) / float(np.linalg.norm(row[2])))
    return [(a, t) for a, t, _ in rows[:limit]]


def a_query(model, library) -> np.ndarray:
    """The vector of a second of the harbour's red circle: a query with a clear nearest neighbourhood."""
    harbour = library.assets["harbour.mp4"]
    (_, start, _), = library.ranges(shape="circle", colour="red", background="blue")
    return selectors.second_vector(spec=selectors.active_clip_spec(), asset_id=harbour.pk, time=start + 2)


def narrow_cases(library):
    """(filters, which seconds they pass) for filters that pass a few seconds of the library."""
    harbour, council, parade = (library.assets[n] for n in ("harbour.mp4", "council.mp4", "parade.mp4"))
    person = factories.person("Ana Ruiz")
    factories.face_track(asset=council, start=3.0, end=7.0, person=person)
    star = AssetTag.objects.filter(label__name="star").values_list("asset_id", "start", "end")
    Asset.objects.filter(pk=parade.pk).update(source="Stringer 3")
    Asset.objects.filter(pk=harbour.pk).update(created_at=harbour.created_at + timedelta(days=400))
    later = (harbour.created_at + timedelta(days=399)).date()
    return [
        ("person", SearchFilters(person=person.pk, people=(person.pk,)),
         lambda a, t: a == council.pk and 3.0 <= t < 7.0),
        ("tag", SearchFilters(tag=AssetTag.objects.filter(label__name="star").first().label),
         lambda a, t: any(a == ta and (ts <= t < te or ts == te == t) for ta, ts, te in star)),
        ("source", SearchFilters(source="stringer 3"), lambda a, t: a == parade.pk),
        ("after", SearchFilters(after=later), lambda a, t: a == harbour.pk),
        ("asset", SearchFilters(asset=council.pk), lambda a, t: a == council.pk),
    ]


def assert_nearest_first(found, expected, model, vector):
    """The same seconds, in an order of non-increasing similarity (seconds alike to the last digit may swap)."""
    assert sorted(found) == sorted(expected)
    vectors = {(a, t): np.asarray(v, dtype=np.float32) for a, t, v in FrameEmbedding.objects.filter(model=model)
               .values_list("asset_id", "time", "embedding")}
    scores = [float(vectors[s] @ vector) / float(np.linalg.norm(vectors[s])) for s in found]
    assert all(later <= earlier + 1e-5 for earlier, later in zip(scores, scores[1:]))


def test_a_narrow_filter_finds_every_second_it_passes(library, model, index_scans_only):
    vector = a_query(model, library)
    for name, filters, passes in narrow_cases(library):
        every = nearest_passing(model, vector, passes, limit=1000)
        assert 0 < len(every) < 60, name
        # The plan search picks for a filter passing fewer seconds than it asks for: score them all.
        assert selectors.coarse_plan(model=model, filters=filters).exact, name
        # Asked for more seconds than the filter passes: all of them, nearest first (the index's iterative
        # scan, search's plan for every filter before, stopped short of them: pgvector gives up after
        # max_scan_tuples, and a graph walked under a filter can miss a few).
        assert_nearest_first(selectors.ann_candidates(vector=vector, model=model, filters=filters, limit=100),
                             every, model, vector)
        # The index plan (which search takes only for broad filters) walks an approximate graph: it may
        # stop short of a few seconds, but never returns one the filter excludes.
        walked = selectors.ann_candidates(vector=vector, model=model, filters=filters, limit=100, plan=INDEX)
        assert walked and set(walked) <= set(every), name
        # Asked for fewer: the nearest of them.
        nearest = selectors.ann_candidates(vector=vector, model=model, filters=filters, limit=3, plan=EXACT)
        assert_nearest_first(nearest, every[:3], model, vector)


def test_a_broad_filter_finds_the_nearest_seconds_under_either_plan(library, model, index_scans_only):
    vector = a_query(model, library)
    still = library.assets["poster.png"]
    truth = nearest_passing(model, vector, lambda a, t: a != still.pk, limit=10)
    filters = SearchFilters(kind="video")
    assert_nearest_first(selectors.ann_candidates(vector=vector, model=model, filters=filters, limit=10, plan=EXACT),
                         truth, model, vector)
    assert sorted(selectors.ann_candidates(vector=vector, model=model, filters=filters, limit=10, plan=INDEX)) == sorted(truth)
    assert not selectors.coarse_plan(model=model, filters=SearchFilters()).exact  # no filter: the index, always


def test_at_a_million_seconds_a_broad_filter_walks_the_index_and_a_narrow_one_is_scored_exactly():
    library_seconds, limit = 1_000_000, selectors.ANN_CANDIDATES
    threshold = selectors.coarse_plan_threshold(library_seconds=library_seconds, limit=limit)

    def plan(passing):  # the count stops at the threshold
        return selectors.coarse_plan_for(passing=min(passing, threshold), threshold=threshold,
                                         library_seconds=library_seconds, limit=limit)

    assert plan(10_000).exact and not plan(500_000).exact  # a hundredth of the library, and half of it
    # The index plan may walk far enough for the narrowest filter it takes, and never less than pgvector's default.
    assert plan(500_000).max_scan_tuples >= limit * library_seconds / threshold
    assert selectors.coarse_plan_for(passing=None, threshold=threshold, library_seconds=library_seconds,
                                     limit=limit).max_scan_tuples == selectors.MIN_SCAN_TUPLES
