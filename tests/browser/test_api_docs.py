"""A signed-in viewer opens the API documentation from the page footer: Swagger UI lists the operations
and Redoc shows the same schema, every script, style and font coming from this server (no CDN)."""

import re

import pytest
from playwright.sync_api import expect

from tests import factories
from tests.browser.test_upload_flow import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def record_requests(page) -> dict[str, str]:
    """Every URL the page asked for -> "done", or why the browser did not fetch it."""
    outcomes = {}
    page.on("requestfinished", lambda request: outcomes.__setitem__(request.url, "done"))
    page.on("requestfailed", lambda request: outcomes.__setitem__(request.url, request.failure or "failed"))
    return outcomes


def external(outcomes: dict[str, str], live_server) -> dict[str, str]:
    """Requests for anything not on this server (data: and blob: URLs are the page's own memory)."""
    return {url: outcome for url, outcome in outcomes.items()
            if not url.startswith((live_server.url + "/", "data:", "blob:"))}


def test_the_docs_pages_render_the_operations_from_local_files_only(page, live_server, viewer):
    sign_in(page, live_server, viewer)
    urls = record_requests(page)

    page.get_by_role("link", name="API", exact=True).click()
    expect(page).to_have_url(re.compile(r"/api/docs/$"))
    search = page.locator(".opblock", has=page.locator(".opblock-summary-path", has_text=re.compile(r"^/api/search$")))
    expect(search).to_contain_text("Find moments matching a sentence")
    expect(page.locator(".opblock-summary-path", has_text="/api/assets/{id}")).not_to_have_count(0)
    assert page.locator(".opblock").count() >= 30  # every operation, not a stub
    expect(page.locator(".auth-wrapper .authorize")).to_be_visible()  # the token scheme can be entered
    assert any(url.endswith("/api/schema") for url in urls), urls

    page.get_by_role("link", name="The same as one long page (Redoc)").click()
    expect(page.locator("h1", has_text="mediahub API")).to_be_visible()
    expect(page.get_by_role("heading", name="Find moments matching a sentence (English or Chinese)")).to_be_attached()
    assert [url for url in urls if "/static/drf_spectacular_sidecar/" in url], urls
    # Redoc's sidebar asks cdn.redoc.ly for its logo: the page's Content-Security-Policy stops it in the browser.
    assert set(external(urls, live_server).values()) <= {"csp"}, external(urls, live_server)


def test_a_signed_out_visitor_signs_in_first_and_lands_on_the_docs(page, live_server, viewer):
    page.goto(live_server.url + "/api/redoc/")
    expect(page).to_have_url(re.compile(r"/accounts/login/\?next=/api/redoc/$"))
    page.get_by_label("Username").fill(viewer.username)
    page.get_by_label("Password").fill(factories.PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(r"/api/redoc/$"))
    expect(page.locator("h1", has_text="mediahub API")).to_be_visible()
