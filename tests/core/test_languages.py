"""The interface language follows the browser (English and Simplified Chinese), a switch overrides it,
and every interface string has a Chinese translation."""

import gettext
import json
import re
from pathlib import Path

import pytest
from bs4 import BeautifulSoup
from django.conf import settings
from django.test import Client
from django.utils import translation

from mediahub.core.templatetags.moments import moment_label
from tests.assets.test_pages import make_asset

CHINESE_BROWSER = "zh-CN,zh;q=0.9,en;q=0.8"


def page_of(client, path, **headers) -> BeautifulSoup:
    response = client.get(path, **headers)
    assert response.status_code == 200, path
    return BeautifulSoup(response.content, "html.parser")


def nav_labels(soup) -> list[str]:
    return [a.get_text(strip=True) for a in soup.select("header.topbar nav a")]


def facts_of(soup) -> str:
    """The asset page's fact lists (file and newsroom), as text."""
    return " ".join(facts.get_text() for facts in soup.select("dl.facts"))


@pytest.fixture
def signed_in_editor(client, owner):
    client.force_login(owner)
    return client


@pytest.fixture
def asset(owner):
    return make_asset(owner, title="Flood at the bridge")


def test_a_chinese_browser_gets_chinese_pages(signed_in_editor, asset):
    client = signed_in_editor
    pages = {path: page_of(client, path, HTTP_ACCEPT_LANGUAGE=CHINESE_BROWSER)
             for path in ("/", "/search/?q=red", f"/assets/{asset.pk}/", "/upload/")}
    for path, soup in pages.items():
        assert soup.html["lang"] == "zh-hans", path
        assert nav_labels(soup)[:4] == ["素材库", "脚本", "人物", "上传"], path
        assert soup.select_one("form.searchbox button").get_text() == "搜索", path
        assert soup.select_one("form.signout button").get_text() == "退出登录", path
    assert pages["/"].h1.get_text() == "素材库"
    assert pages["/"].select_one(".filters button").get_text() == "筛选"
    assert pages["/"].select_one(".card .status").get_text() == "就绪"
    filters = pages["/search/?q=red"].select_one("form.search-filters")
    assert filters.select_one("button").get_text() == "应用"
    assert "上传晚于" in filters.get_text() and "上传早于" in filters.get_text()
    facts = facts_of(pages[f"/assets/{asset.pk}/"])
    assert "时长" in facts and "上传" in facts and "版权" in facts
    assert pages["/upload/"].h1.get_text() == "上传"


@pytest.mark.parametrize("header", [{"HTTP_ACCEPT_LANGUAGE": "en-US,en;q=0.9"}, {}])
def test_an_english_or_silent_browser_gets_english_pages(signed_in_editor, asset, header):
    for path in ("/", "/search/?q=red", f"/assets/{asset.pk}/", "/upload/"):
        soup = page_of(signed_in_editor, path, **header)
        assert soup.html["lang"] == "en", path
        assert nav_labels(soup)[:4] == ["Library", "Briefs", "People", "Upload"], path
        assert soup.select_one("form.searchbox button").get_text() == "Search", path


def test_the_sign_in_page_is_chinese_too(client, db):
    soup = page_of(client, "/accounts/login/", HTTP_ACCEPT_LANGUAGE=CHINESE_BROWSER)
    assert soup.h1.get_text() == "登录" and "用户名" in soup.select_one("form").get_text()


def test_dates_follow_the_page_language(signed_in_editor, asset):
    path = f"/assets/{asset.pk}/"
    created = asset.created_at
    chinese = facts_of(page_of(signed_in_editor, path, HTTP_ACCEPT_LANGUAGE=CHINESE_BROWSER))
    assert f"{created.year}年{created.month}月{created.day}日" in chinese
    english = facts_of(page_of(signed_in_editor, path))
    assert f"{created:%b}" in english and str(created.year) in english and "年" not in english


def test_the_language_switch_overrides_the_browser(signed_in_editor):
    client = signed_in_editor
    switch = page_of(client, "/").select_one("footer form.language")
    assert {option["value"] for option in switch.select("option")} == {"en", "zh-hans"}
    response = client.post(switch["action"], {"language": "zh-hans", "next": "/"})
    assert response.status_code == 302 and response["Location"] == "/"
    soup = page_of(client, "/", HTTP_ACCEPT_LANGUAGE="en-US")
    assert soup.html["lang"] == "zh-hans" and nav_labels(soup)[0] == "素材库"
    assert soup.select_one("footer option[selected]")["value"] == "zh-hans"


def test_the_switch_needs_a_csrf_token(db):
    response = Client(enforce_csrf_checks=True).post("/language", {"language": "zh-hans"})
    assert response.status_code == 403


def test_the_moment_player_speaks_chinese(signed_in_editor, asset):
    """The moment player's controls and what it says it plays (app.js shows them as the page gives them)."""
    soup = page_of(signed_in_editor, f"/assets/{asset.pk}/?t=0.5&end=2.5", HTTP_ACCEPT_LANGUAGE=CHINESE_BROWSER)
    selected = soup.select_one(".moment-selected")
    assert selected.p.get_text().startswith("所选片段：0:00–0:02。")
    assert [button.get_text() for button in selected.select(".moment-controls button")] == ["重播片段", "继续播放"]
    assert selected.select_one(".moment-stopped").get_text() == "已停在片段结尾。"
    with translation.override("zh-hans"):
        assert moment_label("洪水第一天", 0, 0, "image") == "洪水第一天 · 静态图片"


def test_app_js_gets_its_words_in_the_page_language(signed_in_editor):
    soup = page_of(signed_in_editor, "/upload/", HTTP_ACCEPT_LANGUAGE=CHINESE_BROWSER)
    words = json.loads(soup.select_one("script#script-text").string)
    assert words["uploading"] == "上传中…" and words["status"]["ready"] == "就绪"


# The catalogue: every string marked in the templates and the code has a Chinese translation.

def po_unescape(text: str) -> str:
    return re.sub(r'\\(.)', lambda m: {"n": "\n", "t": "\t"}.get(m.group(1), m.group(1)), text)


def po_entries(path: Path) -> list[dict]:
    """The entries of a .po file: msgid, msgid_plural, msgstr (all forms joined) and flags."""
    entries, entry, field = [], None, None
    for line in path.read_text(encoding="utf-8").splitlines() + [""]:
        if not line.strip():
            if entry is not None:
                entries.append(entry)
            entry, field = None, None
            continue
        entry = entry if entry is not None else {"msgid": "", "msgid_plural": "", "msgstr": "", "flags": set()}
        if line.startswith("#,"):
            entry["flags"] |= {flag.strip() for flag in line[2:].split(",")}
        elif line.startswith("#"):
            continue
        elif match := re.match(r'(msgid_plural|msgid|msgstr)(?:\[\d+\])? "(.*)"$', line):
            field = match.group(1)
            entry[field] += po_unescape(match.group(2))
        elif line.startswith('"'):
            entry[field] += po_unescape(line[1:-1])
    return [e for e in entries if e["msgid"]]  # the header has an empty msgid


def test_every_interface_string_is_translated_to_chinese():
    po = Path(settings.LOCALE_PATHS[0]) / "zh_Hans" / "LC_MESSAGES" / "django.po"
    entries = po_entries(po)
    assert len(entries) > 200  # the catalogue really was read
    untranslated = [e["msgid"] for e in entries if not e["msgstr"]]
    fuzzy = [e["msgid"] for e in entries if "fuzzy" in e["flags"]]
    assert untranslated == [] and fuzzy == []
    with open(po.with_suffix(".mo"), "rb") as compiled:
        catalogue = gettext.GNUTranslations(compiled)
    stale = [e["msgid"] for e in entries if not e["msgid_plural"] and catalogue.gettext(e["msgid"]) != e["msgstr"]]
    assert stale == [], "the .mo is older than the .po: run `make messages`"


def test_the_api_answers_in_english_whatever_the_client_asks(viewer_api):
    response = viewer_api.post("/api/feedback", {}, format="json", HTTP_ACCEPT_LANGUAGE=CHINESE_BROWSER)
    assert response.status_code == 400
    assert "required" in response.json()["detail"] and not re.search(r"[\u4e00-\u9fff]", response.json()["detail"])
