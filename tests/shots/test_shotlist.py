"""The shot list as a download: /assets/{id}/shotlist.txt and .csv, in English or Chinese, with
agency timecodes (MM:SS, HH:MM:SS from an hour), named after the asset, CSV opening right in Excel."""

import csv
import io

import pytest
from django.test import Client

from mediahub.shots.models import Shot
from mediahub.shots.services import shot_description_edit
from tests.shots.described import VIDEO_SHOTS, asset_row, described, video_with_shots

pytestmark = pytest.mark.django_db


@pytest.fixture
def signed_in(client, viewer):  # viewers may download
    client.force_login(viewer)
    return client


def test_the_text_list_in_english_and_in_chinese(signed_in, owner):
    video = video_with_shots(owner)
    english = signed_in.get(f"/assets/{video.pk}/shotlist.txt")  # English unless asked
    assert english.status_code == 200 and english["Content-Type"] == "text/plain; charset=utf-8"
    assert english["Content-Disposition"] == 'attachment; filename="flood-at-the-bridge-shots-en.txt"'
    assert english.content.decode("utf-8").splitlines() == [
        "Flood at the bridge", "",
        "1. 00:00–00:04 A red circle on a blue background",
        "2. 00:04–01:05 A green square on a white background",  # ends at 65.4 s
        "3. 01:05–01:10 A yellow star on a black background"]
    chinese = signed_in.get(f"/assets/{video.pk}/shotlist.txt", {"lang": "zh"})
    assert chinese["Content-Disposition"] == 'attachment; filename="flood-at-the-bridge-shots-zh.txt"'
    assert chinese.content.decode("utf-8").splitlines()[2:] == [
        "1. 00:00–00:04 蓝色背景上的红色圆形", "2. 00:04–01:05 白色背景上的绿色正方形", "3. 01:05–01:10 黑色背景上的黄色星形"]
    assert not chinese.content.startswith(b"\xef\xbb\xbf")  # pasted into scripts: no byte-order mark


def test_the_csv_list_starts_with_a_byte_order_mark_and_holds_each_shot(signed_in, owner):
    video = video_with_shots(owner)
    response = signed_in.get(f"/assets/{video.pk}/shotlist.csv", {"lang": "zh"})
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="flood-at-the-bridge-shots-zh.csv"'
    assert response.content.startswith(b"\xef\xbb\xbf")  # so Excel reads UTF-8, not the local code page
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows == [["shot", "start", "end", "description"],
                    ["1", "00:00", "00:04", "蓝色背景上的红色圆形"],
                    ["2", "00:04", "01:05", "白色背景上的绿色正方形"],
                    ["3", "01:05", "01:10", "黑色背景上的黄色星形"]]


def test_an_edited_description_is_in_the_list_and_cannot_run_as_a_formula(signed_in, owner, editor):
    video = video_with_shots(owner)
    shot_description_edit(shot=Shot.objects.get(asset=video, index=2), user=editor,
                          texts={"en": '=HYPERLINK("http://evil.example","Wide of the bridge")'})
    rows = list(csv.reader(io.StringIO(signed_in.get(f"/assets/{video.pk}/shotlist.csv").content.decode("utf-8-sig"))))
    assert rows[3][3] == '\'=HYPERLINK("http://evil.example","Wide of the bridge")'  # text to a spreadsheet
    assert rows[1][3] == VIDEO_SHOTS[0][1]["en"]


def test_an_hour_or_more_is_written_hh_mm_ss(signed_in, owner):
    long = described(asset_row(owner, title="Council, full session", kind="video", duration=3725.0,
                               frame_times=[10.0, 3000.0]),
                     [((0.0, 65.4), {"en": "Wide of the chamber", "zh": "会议厅全景"}),
                      ((65.4, 3725.0), {"en": "The mayor speaks", "zh": "市长发言"})])
    assert signed_in.get(f"/assets/{long.pk}/shotlist.txt").content.decode().splitlines()[2:] == [
        "1. 00:00:00–00:01:05 Wide of the chamber", "2. 00:01:05–01:02:05 The mayor speaks"]


def test_a_video_just_short_of_an_hour_never_ends_at_sixty_minutes(signed_in, owner):
    almost = described(asset_row(owner, title="Almost an hour", kind="video", duration=3599.6, frame_times=[1.0]),
                       [((0.0, 3599.6), {"en": "One long take", "zh": "一个长镜头"})])
    lines = signed_in.get(f"/assets/{almost.pk}/shotlist.txt").content.decode().splitlines()
    assert lines[2] == "1. 00:00:00–01:00:00 One long take"


def test_a_title_in_chinese_or_with_odd_characters_gives_a_safe_filename(signed_in, owner):
    chinese = video_with_shots(owner, title="外滩 洪水/直播")
    disposition = signed_in.get(f"/assets/{chinese.pk}/shotlist.csv")["Content-Disposition"]
    assert disposition == "attachment; filename*=utf-8''%E5%A4%96%E6%BB%A9-%E6%B4%AA%E6%B0%B4%E7%9B%B4%E6%92%AD-shots-en.csv"
    odd = video_with_shots(owner, title='../"*?')
    assert (signed_in.get(f"/assets/{odd.pk}/shotlist.txt")["Content-Disposition"]
            == f'attachment; filename="asset-{odd.pk}-shots-en.txt"')


def test_an_unknown_language_is_refused_with_a_sentence(signed_in, owner):
    video = video_with_shots(owner)
    response = signed_in.get(f"/assets/{video.pk}/shotlist.csv", {"lang": "fr"})
    assert response.status_code == 400
    assert response.content.decode() == "There is no shot list in 'fr'; ask for ?lang=en (English) or ?lang=zh (Chinese).\n"


def test_the_list_needs_a_login_and_an_existing_asset(signed_in, owner):
    video = video_with_shots(owner)
    response = Client().get(f"/assets/{video.pk}/shotlist.txt")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
    assert signed_in.get("/assets/999999/shotlist.txt").status_code == 404
