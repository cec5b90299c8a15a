"""GET /api/assets: DRF pagination and django-filter, errors as sentences."""

from mediahub.assets.models import Asset


def test_pages_of_fifty_newest_first_and_past_the_end_is_empty(owner_api, owner):
    for index in range(51):
        Asset.objects.create(
            owner=owner, title=f"a{index}", original=f"originals/{index}.png", original_filename=f"{index}.png",
            size_bytes=1, sha256=f"{index:064d}", kind="image")
    first = owner_api.get("/api/assets").json()
    assert (first["count"], len(first["results"]), first["results"][0]["title"]) == (51, 50, "a50")
    second = owner_api.get("/api/assets?page=2").json()
    assert [a["title"] for a in second["results"]] == ["a0"]
    assert owner_api.get("/api/assets?page=3").json()["results"] == []


def test_bad_page_and_filter_values_are_400_sentences(owner_api):
    for query, words in [("page=abc", "page must be a whole number from 1, not 'abc'."),
                         ("page=0", "page must be a whole number from 1, not '0'."),
                         ("kind=audio", "kind must be one of video, image, not 'audio'.")]:
        response = owner_api.get(f"/api/assets?{query}")
        assert response.status_code == 400 and response.json() == {"detail": words}
