"""Errors under /api/ are JSON sentences and never show internals."""

import pytest

LEAKS = ("tried", "site-packages", ".venv", "urlpatterns", "<", "Traceback", "api/ ")


@pytest.mark.parametrize("debug", [False, True])
@pytest.mark.parametrize("path", ["/api/nothing-here", "/api/assets/abc", "/api/assets/1/unknown", "/api/%ZZ",
                                  "/api/assets/99999999999999999999999/reprocess/../x"])
def test_an_unknown_or_malformed_api_path_is_a_plain_json_404(owner_api, settings, path, debug):
    settings.DEBUG = debug
    response = owner_api.get(path)
    assert response.status_code == 404
    assert response["Content-Type"].startswith("application/json")
    assert response.json() == {"detail": "There is nothing at this address; check the URL."}
    assert not any(leak in response.content.decode() for leak in LEAKS)


def test_a_wrong_method_is_a_json_405_naming_the_accepted_ones(owner_api):
    response = owner_api.put("/api/search?q=x")
    assert response.status_code == 405
    assert response.json() == {"detail": "PUT is not accepted here; use GET."}
    assert owner_api.delete("/api/assets").json() == {"detail": "DELETE is not accepted here; use GET, POST."}


def test_a_wrong_method_on_a_function_view_is_json_too(anonymous_api):
    response = anonymous_api.post("/api/health")
    assert response.status_code == 405 and response.json()["detail"] == "POST is not accepted here; use GET."


def test_pages_outside_the_api_keep_their_html_404(owner):
    from django.test import Client

    client = Client()
    client.force_login(owner)
    response = client.get("/no-such-page/")
    assert response.status_code == 404 and not response["Content-Type"].startswith("application/json")
