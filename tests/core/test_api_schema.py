"""The OpenAPI schema documents every answer the API gives: real answers, from a small real library, are
validated against the schema's response for their path, method and status, with every object closed
(a field the schema doesn't name fails, naming the path and the field) and every documented field typed
(a documented non-nullable field that comes back null fails)."""

from __future__ import annotations

import os
import subprocess
import sys

import jsonschema
import pytest

from mediahub.people.models import Person
from tests import factories
from tests.conftest import REPO
from tests.search.conftest import library  # noqa: F401  (the fixture)

pytestmark = pytest.mark.django_db


def strict(node):
    """OpenAPI 3.0 schema -> JSON Schema: `nullable` becomes a null alternative, and every object with
    properties allows no others."""
    if isinstance(node, list):
        return [strict(item) for item in node]
    if not isinstance(node, dict):
        return node
    node = {key: strict(value) for key, value in node.items()}
    if isinstance(node.get("properties"), dict) and "additionalProperties" not in node:
        node["additionalProperties"] = False
    if node.pop("nullable", False):
        node = {"anyOf": [node, {"type": "null"}]}
    return node


class SchemaCheck:
    """Validates answers against the schema and remembers which operations were checked."""

    def __init__(self, schema: dict):
        self.schema = schema
        self.components = strict(schema["components"])
        self.checked: set[tuple[str, str]] = set()

    def __call__(self, response, path: str, status: int | None = None):
        """Assert `response` (to the operation at `path`, a path of the schema) has `status` (default: any 2xx)
        and matches the schema's answer for it; the JSON body."""
        method = response.request["REQUEST_METHOD"].lower()
        where = f"{method.upper()} {path} → {response.status_code}"
        assert (response.status_code == status) if status else (200 <= response.status_code < 300), \
            f"{where}: {response.content[:500]!r}"
        operation = self.schema["paths"].get(path, {}).get(method)
        assert operation is not None, f"{method.upper()} {path} is not in the schema"
        documented = operation["responses"].get(str(response.status_code))
        assert documented is not None, f"{where}: the schema lists no {response.status_code} answer"
        self.checked.add((path, method))
        if response.status_code == 204:
            return None
        body = response.json()
        answer = documented["content"]["application/json"]["schema"]
        validator = jsonschema.Draft7Validator({"components": self.components, "allOf": [strict(answer)]})
        errors = [f"{where}: at {error.json_path}: {error.message}" for error in validator.iter_errors(body)]
        assert not errors, "the answer does not match the schema:\n" + "\n".join(errors)
        return body


@pytest.fixture
def check(editor_api) -> SchemaCheck:
    schema = editor_api.get("/api/schema", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    return SchemaCheck(schema)


def refs(node) -> set[str]:
    """The component names `node` refers to."""
    if isinstance(node, list):
        return set().union(*map(refs, node)) if node else set()
    if not isinstance(node, dict):
        return set()
    found = {node["$ref"].rsplit("/", 1)[1]} if "$ref" in node else set()
    return found.union(*map(refs, node.values()))


def answer_components(schema: dict) -> set[str]:
    """The components some answer (of any status) is made of."""
    components = schema["components"]["schemas"]
    todo = refs([operation["responses"] for operations in schema["paths"].values() for operation in operations.values()])
    seen = set()
    while todo:
        name = todo.pop()
        seen.add(name)
        todo |= refs(components[name]) - seen
    return seen


TYPED = {"type", "$ref", "allOf", "anyOf", "oneOf", "enum"}


def test_every_field_of_every_answer_is_typed_and_described(check):
    components = check.schema["components"]["schemas"]
    fields = {f"{name}.{field}": spec for name in answer_components(check.schema)
              for field, spec in components[name].get("properties", {}).items()}
    assert "Moment.asset_id" in fields
    untyped = sorted(name for name, spec in fields.items() if not TYPED & set(spec))
    assert not untyped, f"fields of any type (a JSONField or a dict), give them a serializer: {', '.join(untyped)}"
    undescribed = sorted(name for name, spec in fields.items() if not spec.get("description"))
    assert not undescribed, f"fields without a description (help_text): {', '.join(undescribed)}"


def test_the_schema_is_valid_with_no_warnings_and_needs_no_database(tmp_path):
    written = tmp_path / "schema.yaml"
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE"}}
    env["MEDIAHUB_DATA_DIR"] = str(tmp_path / "fresh")  # holds no database
    done = subprocess.run([sys.executable, "manage.py", "spectacular", "--validate", "--fail-on-warn", "--file",
                           str(written)], cwd=REPO, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "/api/search:" in written.read_text()


def test_every_answer_matches_the_schema(check, editor_api, editor, library, tmp_path):  # noqa: F811
    harbour, poster = library.assets["harbour.mp4"], library.assets["poster.png"]
    person, other = factories.person("Wang Wei"), factories.person()
    track = factories.face_track(asset=harbour, start=6.0, end=11.0, person=person)
    Person.objects.filter(pk=person.pk).update(cover=factories.face(track=track, time=6.0))
    spare = factories.face_track(asset=harbour, start=1.0, end=3.0, person=other)

    check(editor_api.get("/api/health"), "/api/health")
    # Assets.
    check(editor_api.get("/api/assets"), "/api/assets")
    check(editor_api.get(f"/api/assets/{harbour.pk}"), "/api/assets/{id}")
    edited = check(editor_api.patch(f"/api/assets/{harbour.pk}", {
        "title": "Harbour at dawn, wide", "keywords": ["harbour", "dawn"], "location": "Hong Kong",
        "shot_date": "2026-11-01", "source": "Agency", "credit": "A. Reporter",
        "rights": {"status": "restricted", "note": "Web only"}, "embargo_until": "2030-01-01T00:00:00Z",
        "notes": "Ask the desk first."}, format="json"), "/api/assets/{id}")
    assert edited["embargoed"] and edited["usage_warning"]
    history = check(editor_api.get(f"/api/assets/{harbour.pk}/history"), "/api/assets/{id}/history")
    assert history["results"][0]["changes"]["location"] == {"from": "", "to": "Hong Kong"}
    check(editor_api.get("/api/assets", {"source": "agency", "rights": "restricted", "embargoed": "true"}), "/api/assets")
    upload = factories.upload_file("flag.png", factories.png_bytes((40, 80, 220)), "image/png")
    created = check(editor_api.post("/api/assets", {"file": upload, "title": "Flag"}, format="multipart"),
                    "/api/assets", 201)
    again = factories.upload_file("flag.png", factories.png_bytes((40, 80, 220)), "image/png")
    assert check(editor_api.post("/api/assets", {"file": again}, format="multipart"), "/api/assets", 200)["duplicate"]
    check(editor_api.post(f"/api/assets/{created['id']}/reprocess"), "/api/assets/{id}/reprocess", 202)
    check(editor_api.delete(f"/api/assets/{created['id']}"), "/api/assets/{id}", 204)
    # Search and feedback.
    found = check(editor_api.get("/api/search", {"q": "Wang Wei a red circle", "explain": "true"}), "/api/search")
    assert found["results"] and "explain" in found and "explain" in found["results"][0]
    top = found["results"][0]
    check(editor_api.post("/api/feedback", {"search_id": found["search_id"], "asset_id": top["asset_id"],
                                            "start": top["start"], "end": top["end"], "action": "relevant"},
                          format="json"), "/api/feedback", 201)
    with open(poster.original.path, "rb") as example:
        check(editor_api.post("/api/search/image", {"file": example, "limit": 3}, format="multipart"),
              "/api/search/image")
    check(editor_api.get(f"/api/assets/{harbour.pk}/similar", {"t": 7}), "/api/assets/{id}/similar")
    # Shots, faces, copies.
    check(editor_api.get(f"/api/assets/{harbour.pk}/shots"), "/api/assets/{id}/shots")
    check(editor_api.get(f"/api/assets/{harbour.pk}/shots/1"), "/api/assets/{id}/shots/{index}")
    check(editor_api.patch(f"/api/assets/{harbour.pk}/shots/1", {"description": {"en": "A red ball at sea"}},
                           format="json"), "/api/assets/{id}/shots/{index}")
    faces = check(editor_api.get(f"/api/assets/{harbour.pk}/faces"), "/api/assets/{id}/faces")["faces"]
    assert {face["person_name"] for face in faces} == {"Wang Wei", ""}
    check(editor_api.get(f"/api/assets/{harbour.pk}/copies"), "/api/assets/{id}/copies")
    with open(harbour.original.path, "rb") as clip:
        copies = check(editor_api.post("/api/copies/check", {"file": clip}, format="multipart"), "/api/copies/check")
    assert copies["copies"] and copies["copies"][0]["segments"]
    # People.
    people = check(editor_api.get("/api/people"), "/api/people")["results"]
    assert any(row["thumbnail"] for row in people)
    check(editor_api.get(f"/api/people/{person.pk}"), "/api/people/{id}")
    check(editor_api.patch(f"/api/people/{other.pk}", {"name": "Li Na"}, format="json"), "/api/people/{id}")
    check(editor_api.post(f"/api/people/{person.pk}/merge", {"other_id": other.pk}, format="json"),
          "/api/people/{id}/merge")
    check(editor_api.post(f"/api/people/{person.pk}/unmerge", {"other_id": other.pk}, format="json"),
          "/api/people/{id}/unmerge")
    check(editor_api.post(f"/api/face-tracks/{spare.pk}/reject"), "/api/face-tracks/{id}/reject")
    check(editor_api.post(f"/api/face-tracks/{track.pk}/split"), "/api/face-tracks/{id}/split", 201)
    # Briefs.
    brief = check(editor_api.post("/api/briefs", {"text": "a red circle\na yellow star on a black background",
                                                  "per_beat": 3, "filters": {"kind": "video"}}, format="json"),
                  "/api/briefs", 201)
    beat = f"/api/briefs/{brief['id']}/beats/0"
    moment = brief["beats"][0]["results"][0]
    check(editor_api.post(beat + "/pick", {key: moment[key] for key in ("asset_id", "start", "end")}, format="json"),
          "/api/briefs/{id}/beats/{index}/pick")
    check(editor_api.delete(beat + "/pick"), "/api/briefs/{id}/beats/{index}/pick")
    check(editor_api.post(beat + "/similar", {"asset_id": harbour.pk, "time": 7}, format="json"),
          "/api/briefs/{id}/beats/{index}/similar")
    check(editor_api.patch(beat, {"text": "a green square"}, format="json"), "/api/briefs/{id}/beats/{index}")
    check(editor_api.patch(f"/api/briefs/{brief['id']}", {"title": "Morning"}, format="json"), "/api/briefs/{id}")
    check(editor_api.get(f"/api/briefs/{brief['id']}"), "/api/briefs/{id}")
    check(editor_api.get("/api/briefs"), "/api/briefs")
    exported = editor_api.get(f"/api/briefs/{brief['id']}/export", {"format": "csv"})
    assert exported.status_code == 200 and exported["Content-Disposition"]
    check.checked.add(("/api/briefs/{id}/export", "get"))  # a file, not JSON

    unchecked = sorted(path for path, operations in check.schema["paths"].items()
                       if "get" in operations and (path, "get") not in check.checked)
    assert unchecked == [], "GET endpoints this test does not call yet"


def test_error_answers_match_the_schema(check, editor_api, viewer_api, anonymous_api):
    check(editor_api.get("/api/assets/999999"), "/api/assets/{id}", 404)
    check(editor_api.get("/api/search"), "/api/search", 400)
    check(editor_api.get("/api/search", {"q": "circle", "limit": 1000}), "/api/search", 400)
    check(editor_api.post("/api/feedback", {"search_id": "7d0e2c5e-0000-4000-8000-000000000000", "asset_id": 1,
                                            "start": 0, "end": 1, "action": "click"}, format="json"),
          "/api/feedback", 404)
    check(editor_api.post("/api/feedback", "relevant", content_type="text/plain"), "/api/feedback", 415)
    check(viewer_api.delete("/api/assets/999999"), "/api/assets/{id}", 403)
    check(anonymous_api.get("/api/people"), "/api/people", 401)
