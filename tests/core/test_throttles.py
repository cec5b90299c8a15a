"""Per-user throttles on search and upload (settings.THROTTLE_RATES)."""

import pytest
from django.core.cache import caches

from tests import factories


@pytest.fixture
def tight_rates(settings):
    caches["throttle"].clear()
    settings.THROTTLE_RATES = {"search": "2/minute", "upload": "1/hour"}
    yield
    caches["throttle"].clear()


def test_searching_too_often_is_a_429_with_a_sentence_for_that_user_only(owner_api, viewer_api, tight_rates):
    for _ in range(2):
        assert owner_api.get("/api/search?q=circle").status_code != 429
    refused = owner_api.get("/api/search?q=circle")
    assert refused.status_code == 429
    assert refused.json()["detail"].startswith("Too many requests; try again in ")
    assert int(refused["Retry-After"]) > 0
    assert viewer_api.get("/api/search?q=circle").status_code != 429  # counted per user


def test_uploading_too_often_is_a_429_but_listing_is_not_throttled(owner_api, tight_rates):
    first = owner_api.post("/api/assets", {"file": factories.upload_file("a.png", factories.png_bytes())},
                           format="multipart")
    assert first.status_code == 201
    second = owner_api.post("/api/assets", {"file": factories.upload_file("b.png", factories.png_bytes((1, 2, 3)))},
                            format="multipart")
    assert second.status_code == 429 and "try again in" in second.json()["detail"]
    for _ in range(3):
        assert owner_api.get("/api/assets").status_code == 200
