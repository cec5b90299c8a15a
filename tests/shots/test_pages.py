"""Shots on the pages: the asset page's Shots panel (times, thumbnails with their description as alt
text, click to seek, editors' correction form with CSRF), and images' descriptions as alt text on
the asset page, the library cards and the search result cards."""

import pytest
from bs4 import BeautifulSoup
from django.test import Client

from mediahub.shots.models import Shot
from tests.library import ingest
from tests.shots.described import IMAGE_DESCRIPTION, VIDEO_SHOTS, described, image_with_description, video_with_shots
from workers.ml.demo.video import write_world_image
from workers.ml.demo.world import Scene

pytestmark = pytest.mark.django_db


def page_of(client, user, path: str, **headers) -> BeautifulSoup:
    client.force_login(user)
    response = client.get(path, **headers)
    assert response.status_code == 200
    return BeautifulSoup(response.content, "html.parser")


def descriptions_of(shot) -> dict[str, str]:
    """The shot's description per language as shown (without its "edited" mark)."""
    return {p["lang"]: p.find(string=True, recursive=False).strip() for p in shot.select(".shot-description")}


def test_the_asset_page_lists_each_shot_with_its_thumbnail_times_and_description(client, viewer, owner):
    video = video_with_shots(owner)
    page = page_of(client, viewer, f"/assets/{video.pk}/")
    shots = page.select("#shots li.shot")
    assert len(shots) == 3
    for shot, ((start, _), texts), times in zip(shots, VIDEO_SHOTS, ["1. 0:00–0:04", "2. 0:04–1:05", "3. 1:05–1:10"]):
        play = shot.select_one("button.shot-play")
        assert float(play["data-seek"]) == start  # app.js seeks #player there and plays
        assert play.img["alt"] == texts["en"] and play.img["src"].startswith(f"/assets/{video.pk}/frames/")
        assert shot.select_one(".shot-times").get_text() == times
        assert descriptions_of(shot) == texts
    assert page.select_one(".shot-description")["lang"] == "en"  # the page's language first
    assert not page.select(".edited-mark") and not page.select(".shot-edit")  # a viewer corrects nothing
    downloads = {a["href"] for a in page.select(".shot-list-downloads a")}
    assert downloads == {f"/assets/{video.pk}/shotlist.{ext}?lang={lang}" for ext in ("txt", "csv") for lang in ("en", "zh")}


def test_a_chinese_page_gives_the_chinese_description_as_alt_text(client, viewer, owner):
    video = video_with_shots(owner)
    page = page_of(client, viewer, f"/assets/{video.pk}/", HTTP_ACCEPT_LANGUAGE="zh-CN,zh;q=0.9")
    assert [img["alt"] for img in page.select("#shots img")] == [texts["zh"] for _, texts in VIDEO_SHOTS]
    assert page.select_one(".shot-description")["lang"] == "zh"


def test_an_asset_without_shots_has_no_shots_panel(client, viewer, owner):
    from tests.assets.test_pages import make_asset

    page = page_of(client, viewer, f"/assets/{make_asset(owner).pk}/")
    assert page.select_one("#shots") is None


def csrf_post(client: Client, path: str, page: BeautifulSoup, form_selector: str, **fields):
    form = page.select_one(form_selector)
    data = {field["name"]: field.get("value", "") for field in form.select("input[name]")}
    data.update(fields)
    return client.post(form["action"], data)


def test_an_editor_corrects_a_shot_on_the_page_and_it_shows_marked_edited(owner, editor):
    video = video_with_shots(owner)
    client = Client(enforce_csrf_checks=True)
    page = page_of(client, editor, f"/assets/{video.pk}/")
    assert len(page.select(".shot-edit form")) == 3
    response = csrf_post(client, f"/assets/{video.pk}/", page, "#shot-1 .shot-edit form",
                         en="Wide of flood waters over the bridge")
    assert response.status_code == 302 and response["Location"] == f"/assets/{video.pk}/#shot-1"

    after = page_of(client, editor, response["Location"])
    edited = after.select_one("#shot-1")
    mark = edited.select_one('.shot-description[lang="en"] .edited-mark')  # the English text was corrected
    assert mark.get_text() == "edited" and editor.username in mark["title"]
    assert descriptions_of(edited) == {"en": "Wide of flood waters over the bridge", "zh": VIDEO_SHOTS[1][1]["zh"]}
    assert edited.img["alt"] == "Wide of flood waters over the bridge"
    assert len(after.select(".edited-mark")) == 1
    assert "Shot 2: description saved." in after.select_one(".messages").get_text()


def test_the_correction_form_needs_the_csrf_token_and_the_editor_role(owner, editor, viewer):
    video = video_with_shots(owner)
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(editor)
    assert strict.post(f"/assets/{video.pk}/shots/0/edit", {"en": "Flood"}).status_code == 403  # no token
    refused = Client()
    refused.force_login(viewer)
    assert refused.post(f"/assets/{video.pk}/shots/0/edit", {"en": "Flood"}).status_code == 403
    assert not Shot.objects.filter(asset=video).exclude(edited_en="").exists()


def test_saving_the_form_as_shown_stores_no_correction_and_the_generated_text_undoes_one(client, owner, editor):
    video = video_with_shots(owner)
    page = page_of(client, editor, f"/assets/{video.pk}/")
    csrf_post(client, "", page, "#shot-0 .shot-edit form")  # nothing typed
    assert not Shot.objects.get(asset=video, index=0).edited
    csrf_post(client, "", page, "#shot-0 .shot-edit form", zh="洪水")
    assert Shot.objects.get(asset=video, index=0).descriptions == {"en": VIDEO_SHOTS[0][1]["en"], "zh": "洪水"}
    csrf_post(client, "", page, "#shot-0 .shot-edit form", zh=VIDEO_SHOTS[0][1]["zh"])  # the generated text back
    assert not Shot.objects.get(asset=video, index=0).edited


def test_an_image_is_drawn_with_its_description_as_alt_text(client, viewer, owner):
    image = image_with_description(owner)
    video = video_with_shots(owner)
    page = page_of(client, viewer, f"/assets/{image.pk}/")
    assert page.select_one("img#still")["alt"] == IMAGE_DESCRIPTION["en"]
    assert not page.select("#shots button[data-seek]")  # a still has nothing to play

    library = page_of(client, viewer, "/")
    cards = {int(card["data-asset-id"]): card.select_one(".thumb img")["alt"] for card in library.select(".card")}
    assert cards == {image.pk: IMAGE_DESCRIPTION["en"], video.pk: ""}  # a video card's title says it


def test_library_alt_texts_cost_no_query_per_card(client, viewer, owner, django_assert_max_num_queries):
    for number in range(6):
        image_with_description(owner, title=f"poster {number}")
    client.force_login(viewer)
    client.get("/")
    with django_assert_max_num_queries(10):  # as many as without alt texts (tests/assets/test_pages.py)
        page = BeautifulSoup(client.get("/").content, "html.parser")
    assert [img["alt"] for img in page.select(".card .thumb img")] == [IMAGE_DESCRIPTION["en"]] * 6


def test_a_search_result_card_of_an_image_carries_its_description(client, viewer, tmp_path, tag_vocabulary):
    write_world_image(tmp_path / "poster.png", Scene("star", "orange", "purple", 1, seed=13))
    image = ingest(tmp_path / "poster.png", "Campaign poster")  # the pipeline describes it
    described_as = Shot.objects.get(asset=image).description("en")
    assert "star" in described_as
    client.force_login(viewer)
    page = BeautifulSoup(client.get("/search/", {"q": "an orange star", "kind": "image"}).content, "html.parser")
    card = page.select_one(f'li.moment[data-asset-id="{image.pk}"]')
    assert card.select_one("button.play img")["alt"] == described_as
    assert card.select_one("button.play")["aria-label"].endswith(f": {described_as}")


def test_the_asset_page_costs_no_query_per_shot(client, viewer, owner, editor):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from tests.shots.described import asset_row, described

    def queries_for(shot_count: int) -> int:
        video = described(asset_row(owner, title=f"{shot_count} shots", kind="video", duration=float(shot_count),
                                    frame_times=[0.0]),
                          [((float(i), float(i + 1)), {"en": f"shot {i}", "zh": f"镜头 {i}"}) for i in range(shot_count)])
        for shot in Shot.objects.filter(asset=video):  # corrected, so the page names who corrected each
            shot.edited_en, shot.edited_by = "corrected", editor
            shot.save()
        with CaptureQueriesContext(connection) as queries:
            assert client.get(f"/assets/{video.pk}/").content.decode().count("corrected") >= shot_count
        return len(queries)

    client.force_login(viewer)
    assert queries_for(30) == queries_for(2)


def test_a_form_loaded_before_a_reprocess_saves_nothing_and_says_why(client, owner, editor):
    video = video_with_shots(owner)
    page = page_of(client, editor, f"/assets/{video.pk}/")
    described(video, VIDEO_SHOTS)  # cut anew (as a reprocess does) while the editor types
    response = csrf_post(client, "", page, "#shot-1 .shot-edit form", en="Wide of flood waters")
    after = page_of(client, editor, response["Location"])
    assert "cut into shots anew" in after.select_one(".messages").get_text()
    assert not Shot.objects.filter(asset=video).exclude(edited_en="").exists()
