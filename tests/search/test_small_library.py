"""A newsroom's first upload: a library of one video, which the query matches from start to end.

The query's typical frame (what tells a query the model understands from one it doesn't) is then a
matching frame itself; that must not turn a clear match into "No footage matches well"."""

import pytest

from tests.library import Library, ingest, library_delete, scene
from workers.ml.demo.video import write_world_video


@pytest.fixture(scope="module")
def one_video(django_db_setup, django_db_blocker, tmp_path_factory) -> Library:
    folder = tmp_path_factory.mktemp("one-video")
    scenes = [scene("circle", "red", "blue", 6, 41, vx=0.02), scene("circle", "red", "green", 5, 42)]
    with django_db_blocker.unblock():
        truth = {"rally.mp4": write_world_video(folder / "rally.mp4", scenes, fps=10, width=320, height=240)}
        built = Library(assets={"rally.mp4": ingest(folder / "rally.mp4", "Rally")}, truth=truth)
        yield built
        library_delete(built)


def test_a_query_matching_the_only_video_throughout_is_a_match_not_a_weak_guess(owner_api, one_video):
    body = owner_api.get("/api/search", {"q": "a red circle"}).json()
    assert body["weak"] is False and body["notice"] is None, body
    assert body["results"][0]["asset_id"] == one_video.assets["rally.mp4"].pk


@pytest.mark.parametrize("query", ["a yellow star on a black background", "asdfghjkl"])
def test_what_the_only_video_does_not_show_is_still_weak(owner_api, one_video, query):
    assert owner_api.get("/api/search", {"q": query}).json()["weak"] is True
