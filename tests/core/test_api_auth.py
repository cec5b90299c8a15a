"""Authentication and error shape of the JSON API (CONTRACT.md section 3)."""

import pytest
from django.core.management import call_command

from mediahub.core.selectors import user_from_api_token


def test_health_needs_no_login_and_reports_database_and_broker(anonymous_api, db):
    response = anonymous_api.get("/api/health")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["database"] == "ok"
    assert body["broker"] == "ok"
    assert isinstance(body["workers"], int)


@pytest.mark.parametrize("method, path", [
    ("get", "/api/assets"), ("post", "/api/assets"), ("get", "/api/assets/1"),
    ("delete", "/api/assets/1"), ("post", "/api/assets/1/reprocess"), ("get", "/api/schema"),
])
def test_every_endpoint_but_health_answers_401_without_credentials(anonymous_api, db, method, path):
    response = getattr(anonymous_api, method)(path)
    assert response.status_code == 401
    assert response["Content-Type"].startswith("application/json")
    assert response.json()["detail"]


def test_a_wrong_token_is_refused_with_a_sentence(db):
    from rest_framework.test import APIClient

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")
    response = client.get("/api/assets")
    assert response.status_code == 401
    assert "create_api_token" in response.json()["detail"]


def test_a_valid_token_and_a_session_both_authenticate(owner_api, client, owner):
    assert owner_api.get("/api/assets").status_code == 200
    client.force_login(owner)
    assert client.get("/api/assets").status_code == 200


def test_create_api_token_prints_one_working_token(owner, capsys):
    call_command("create_api_token", owner.username)
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 1
    assert user_from_api_token(raw_token=lines[0]) == owner


def test_tokens_are_stored_hashed(owner):
    from mediahub.core.models import ApiToken
    from mediahub.core.services import api_token_create

    raw = api_token_create(user=owner)
    assert not ApiToken.objects.filter(key_hash=raw).exists()
    assert ApiToken.objects.filter(user=owner).count() == 1


def test_inactive_users_tokens_stop_working(owner, owner_api):
    owner.is_active = False
    owner.save()
    assert owner_api.get("/api/assets").status_code == 401


def test_unknown_api_paths_answer_json_404(owner_api):
    response = owner_api.get("/api/no-such-thing")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("application/json")
    assert response.json()["detail"]


def test_openapi_description_is_served_to_signed_in_users(owner_api):
    response = owner_api.get("/api/schema", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    schema = response.json()
    assert "/api/assets" in schema["paths"]
    assert "/api/assets/{id}/reprocess" in schema["paths"]
    for path in ("/api/search", "/api/search/image", "/api/assets/{id}/similar", "/api/feedback"):
        assert path in schema["paths"], path
    search_parameters = {p["name"] for p in schema["paths"]["/api/search"]["get"]["parameters"]}
    assert {"q", "limit", "kind", "tag", "person", "asset", "after", "before", "explain"} <= search_parameters
