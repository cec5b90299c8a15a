"""Friendly error pages with the navigation, the favicon, and the demo-model banner."""

import pytest
from bs4 import BeautifulSoup
from django.db import OperationalError, connection
from django.test import override_settings

from tests.assets.test_pages import make_asset

ERROR_URLS = "tests.core.error_urls"


def soup_of(response) -> BeautifulSoup:
    return BeautifulSoup(response.content, "html.parser")


def nav_links(soup) -> list[str]:
    return [a["href"] for a in soup.select("header.topbar nav a")]


def test_a_missing_asset_page_is_the_friendly_404_with_the_navigation(client, viewer):
    client.force_login(viewer)
    response = client.get("/assets/987654/")
    assert response.status_code == 404
    soup = soup_of(response)
    assert soup.h1.get_text() == "Not found"
    assert "/" in nav_links(soup) and soup.select_one("form.searchbox input[name=q]")
    assert soup.select_one("main a[href='/']").get_text() == "Back to the library"


@pytest.mark.parametrize("path", ["/briefs/987654/", "/people/987654/", "/no/such/page/"])
def test_missing_briefs_people_and_addresses_are_404_pages(client, viewer, path):
    client.force_login(viewer)
    response = client.get(path)
    assert response.status_code == 404
    assert soup_of(response).h1.get_text() == "Not found"


def test_the_404_page_follows_the_browser_language(client, viewer):
    client.force_login(viewer)
    response = client.get("/assets/987654/", HTTP_ACCEPT_LANGUAGE="zh-CN,zh;q=0.9")
    soup = soup_of(response)
    assert response.status_code == 404 and soup.html["lang"] == "zh-hans"
    assert soup.h1.get_text() == "找不到页面" and "返回素材库" in soup.select_one("main").get_text()


def test_a_refused_page_is_the_friendly_403_naming_the_role(client, viewer):
    client.force_login(viewer)
    response = client.get("/upload/")
    assert response.status_code == 403
    soup = soup_of(response)
    assert soup.h1.get_text() == "Not allowed" and "editor role" in soup.select_one("main").get_text()
    assert "/" in nav_links(soup)


def test_the_api_keeps_json_errors(client, viewer):
    client.force_login(viewer)
    response = client.get("/api/assets/987654")
    assert response.status_code == 404 and response.json()["detail"]


@override_settings(ROOT_URLCONF=ERROR_URLS)
def test_a_failing_page_is_the_friendly_500_even_with_the_database_down(client, viewer):
    client.force_login(viewer)
    client.raise_request_exception = False

    def database_down(execute, sql, params, many, context):
        raise OperationalError("could not connect to server")

    with connection.execute_wrapper(database_down):
        response = client.get("/broken/", HTTP_ACCEPT_LANGUAGE="zh-CN")  # the session can't even be read
    assert response.status_code == 500
    soup = soup_of(response)
    assert soup.h1.get_text() == "出错了" and soup.html["lang"] == "zh-hans"
    assert "/" in nav_links(soup) and soup.select_one("form.searchbox")


@override_settings(ROOT_URLCONF=ERROR_URLS)
def test_a_failing_page_with_the_database_up_is_the_500_page_too(client, viewer):
    client.force_login(viewer)
    client.raise_request_exception = False
    response = client.get("/broken/")
    assert response.status_code == 500 and soup_of(response).h1.get_text() == "Something went wrong"


@override_settings(ROOT_URLCONF=ERROR_URLS)
def test_a_bad_request_is_the_friendly_400_page(client, viewer):
    client.force_login(viewer)
    response = client.get("/bad/")
    soup = soup_of(response)
    assert response.status_code == 400 and soup.h1.get_text() == "Bad request"
    assert "/" in nav_links(soup) and soup.select_one("main a[href='/']").get_text() == "Back to the library"


@override_settings(ROOT_URLCONF=ERROR_URLS)
def test_a_failing_endpoint_answers_json(client):
    client.raise_request_exception = False
    response = client.get("/api/broken")
    assert response.status_code == 500 and response.json()["detail"].startswith("Something went wrong")


def test_the_favicon_answers_without_a_login(client, db):
    response = client.get("/favicon.ico", follow=True)
    assert response.status_code == 200 and response["Content-Type"] == "image/png"
    assert b"".join(response.streaming_content).startswith(b"\x89PNG")


def test_pages_link_the_favicon(client, db):
    icons = soup_of(client.get("/accounts/login/")).select("link[rel=icon]")
    assert {icon["type"] for icon in icons} == {"image/svg+xml", "image/png"}
    for icon in icons:
        assert client.get(icon["href"]).status_code == 200


@override_settings(CLIP_MODEL="demo")
def test_every_page_says_when_the_demo_model_is_active(client, viewer, owner):
    asset = make_asset(owner)
    client.force_login(viewer)
    for path in ("/", f"/assets/{asset.pk}/", "/search/?q=red", "/briefs/", "/people/"):
        banner = soup_of(client.get(path)).select_one(".demo-banner")
        assert banner is not None, path
        assert "MEDIAHUB_CLIP_MODEL" in banner.get_text() and "test patterns" in banner.get_text()
    client.logout()
    assert soup_of(client.get("/accounts/login/")).select_one(".demo-banner") is not None


@override_settings(CLIP_MODEL="demo")
def test_the_demo_banner_is_translated(client, viewer):
    client.force_login(viewer)
    banner = soup_of(client.get("/", HTTP_ACCEPT_LANGUAGE="zh-CN")).select_one(".demo-banner").get_text()
    assert "演示模型" in banner and "MEDIAHUB_CLIP_MODEL" in banner


@override_settings(CLIP_MODEL="xlm-roberta-base-ViT-B-32")
def test_no_banner_with_a_real_model(client, viewer):
    client.force_login(viewer)
    assert soup_of(client.get("/")).select_one(".demo-banner") is None
