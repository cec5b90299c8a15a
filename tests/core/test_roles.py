"""Roles (CONTRACT.md section 6): every API endpoint and page action for each role.

For each action and each role the table says who may do it: a user whose role allows it gets the
success status and the change happens; anyone else is refused (401 or a login redirect when signed
out, 403 with a sentence naming the role needed when signed in) and nothing in the library changes.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Callable

import numpy as np
import pytest
from django.apps import apps as django_apps
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.files.storage import default_storage
from django.core.management import CommandError, call_command
from django.test import Client

from mediahub.assets.models import Asset, TagLabel
from mediahub.core import roles
from mediahub.people import services as people_services
from mediahub.people.models import Face, FaceTrack, Person, TrackRejection
from mediahub.search.models import EmbeddingModel, Feedback, Search
from tests import factories
from tests.assets.test_pages import make_asset
from tests.conftest import api_client_for, user_with_role
from tests.people.embeddings import identity
from tests.people.factories import asset_with_faces, track_result

ANONYMOUS = "anonymous"
EVERYONE = (ANONYMOUS, roles.VIEWER, roles.EDITOR, roles.ADMIN)


@pytest.fixture
def world(db):
    """An asset uploaded by someone else, a stored search that returned it, and a second user to promote."""
    uploader = user_with_role("uploader", roles.EDITOR)
    asset = make_asset(uploader, title="Flood at the bridge", description="River at dawn")
    model = EmbeddingModel.objects.create(key="roles-test@none", name="roles-test", pretrained="none", dim=2)
    search = Search.objects.create(model=model, vector=[1.0, 0.0], query="flood",
                                   results=[{"asset_id": asset.pk, "start": 0.0, "end": 2.0, "score": 0.5, "rank": 1}])
    return {"asset": asset, "search": search, "newcomer": factories.user("newcomer"), **_people(uploader)}


def _people(uploader) -> dict:
    """Two people seen in two shots each, a third merged into the first, and a face of the first."""
    rng = np.random.default_rng(1)
    found = []
    for name in ("ada", "bob", "cy"):
        centre = identity(rng)
        asset = asset_with_faces(uploader, track_result(centre, rng, seconds=2),
                                 track_result(centre, rng, start=5, seconds=2), title=name)
        found.append(Person.objects.get(pk=FaceTrack.objects.filter(asset=asset).first().person_id))
    ada, bob, cy = found
    people_services.person_merge(person=ada, other=cy)
    track = FaceTrack.objects.filter(person=ada, merged_from=None).order_by("pk").first()
    return {"ada": ada, "bob": bob, "cy": cy, "track": track, "face": Face.objects.filter(track=track).first()}


def library_state() -> dict:
    """Everything a refused request must leave as it was."""
    users = get_user_model().objects.prefetch_related("groups").order_by("pk")
    return {
        "assets": list(Asset.objects.order_by("pk").values_list("pk", "title", "description", "status", "run_id")),
        "originals": sorted(default_storage.listdir("originals")[1]) if default_storage.exists("originals") else [],
        "feedback": list(Feedback.objects.values_list("pk", flat=True)),
        "roles": [(user.username, roles.role_of(user), user.is_staff) for user in users],
        "labels": list(TagLabel.objects.order_by("pk").values_list("pk", "name", "enabled")),
        "people": list(Person.objects.order_by("pk").values_list("pk", "name", "hidden", "merged_into")),
        "tracks": list(FaceTrack.objects.order_by("pk").values_list("pk", "person", "assignment")),
        "rejections": list(TrackRejection.objects.values_list("pk", flat=True)),
    }


@dataclass(frozen=True)
class Action:
    name: str
    lowest_role: str
    send: Callable  # (client, world) -> response
    ok: int
    changes: bool  # a write: the library differs afterwards
    refused: int = 403  # status for a signed-in user whose role doesn't allow it


def allowed(action: Action, role: str) -> bool:
    return role != ANONYMOUS and roles.ROLES.index(role) >= roles.ROLES.index(action.lowest_role)


def png_upload():
    return factories.upload_file("new.png", factories.png_bytes(colour=(9, 8, 7)))


API_ACTIONS = [
    Action("list assets", roles.VIEWER, lambda c, w: c.get("/api/assets"), 200, False),
    Action("read an asset", roles.VIEWER, lambda c, w: c.get(f"/api/assets/{w['asset'].pk}"), 200, False),
    Action("search by text", roles.VIEWER, lambda c, w: c.get("/api/search", {"q": "circle"}), 200, False),
    Action("search by image", roles.VIEWER,
           lambda c, w: c.post("/api/search/image", {"file": png_upload()}, format="multipart"), 200, False),
    # Allowed, and answered: the fixture's asset has no indexed frame to start from yet.
    Action("more like this", roles.VIEWER, lambda c, w: c.get(f"/api/assets/{w['asset'].pk}/similar", {"t": 1}), 404, False),
    Action("give feedback", roles.VIEWER, lambda c, w: c.post("/api/feedback", {
        "search_id": str(w["search"].pk), "asset_id": w["asset"].pk, "start": 0.0, "end": 2.0, "action": "relevant",
    }, format="json"), 201, True),
    Action("upload", roles.EDITOR, lambda c, w: c.post("/api/assets", {"file": png_upload()}, format="multipart"), 201, True),
    Action("edit title and description", roles.EDITOR,
           lambda c, w: c.patch(f"/api/assets/{w['asset'].pk}", {"title": "Bridge", "description": ""}, format="json"),
           200, True),
    Action("reprocess", roles.EDITOR, lambda c, w: c.post(f"/api/assets/{w['asset'].pk}/reprocess"), 202, True),
    Action("delete", roles.EDITOR, lambda c, w: c.delete(f"/api/assets/{w['asset'].pk}"), 204, True),
    Action("list people", roles.VIEWER, lambda c, w: c.get("/api/people"), 200, False),
    Action("faces of an asset", roles.VIEWER, lambda c, w: c.get(f"/api/assets/{w['track'].asset_id}/faces"), 200, False),
    Action("read a person", roles.VIEWER, lambda c, w: c.get(f"/api/people/{w['ada'].pk}"), 200, False),
    Action("name a person", roles.EDITOR,
           lambda c, w: c.patch(f"/api/people/{w['ada'].pk}", {"name": "Ada"}, format="json"), 200, True),
    Action("hide a person", roles.EDITOR,
           lambda c, w: c.patch(f"/api/people/{w['ada'].pk}", {"hidden": True}, format="json"), 200, True),
    Action("merge people", roles.EDITOR,
           lambda c, w: c.post(f"/api/people/{w['ada'].pk}/merge", {"other_id": w["bob"].pk}, format="json"), 200, True),
    Action("un-merge people", roles.EDITOR,
           lambda c, w: c.post(f"/api/people/{w['ada'].pk}/unmerge", {"other_id": w["cy"].pk}, format="json"), 200, True),
    Action("split a face track off", roles.EDITOR, lambda c, w: c.post(f"/api/face-tracks/{w['track'].pk}/split"), 201, True),
    Action("not this person", roles.EDITOR, lambda c, w: c.post(f"/api/face-tracks/{w['track'].pk}/reject"), 200, True),
    Action("delete a person", roles.EDITOR, lambda c, w: c.delete(f"/api/people/{w['bob'].pk}"), 204, True),
]


def _role_action(role: str):
    return lambda c, w: c.post("/admin/auth/user/", {"action": f"make_{role}", "_selected_action": [w["newcomer"].pk]})


PAGE_ACTIONS = [
    Action("library page", roles.VIEWER, lambda c, w: c.get("/"), 200, False),
    Action("asset page", roles.VIEWER, lambda c, w: c.get(f"/assets/{w['asset'].pk}/"), 200, False),
    Action("play the media", roles.VIEWER, lambda c, w: c.get(f"/assets/{w['asset'].pk}/media"), 200, False),
    Action("search page", roles.VIEWER, lambda c, w: c.get("/search/", {"q": "circle"}), 200, False),
    Action("upload page", roles.EDITOR, lambda c, w: c.get("/upload/"), 200, False),
    Action("edit form", roles.EDITOR,
           lambda c, w: c.post(f"/assets/{w['asset'].pk}/edit", {"title": "Bridge", "description": "new"}), 302, True),
    Action("reprocess button", roles.EDITOR, lambda c, w: c.post(f"/assets/{w['asset'].pk}/reprocess"), 302, True),
    Action("delete button", roles.EDITOR, lambda c, w: c.post(f"/assets/{w['asset'].pk}/delete"), 302, True),
    Action("people page", roles.VIEWER, lambda c, w: c.get("/people/"), 200, False),
    Action("person page", roles.VIEWER, lambda c, w: c.get(f"/people/{w['ada'].pk}/"), 200, False),
    Action("face crop", roles.VIEWER, lambda c, w: c.get(f"/faces/{w['face'].pk}.jpg"), 200, False),
    Action("rename form", roles.EDITOR, lambda c, w: c.post(f"/people/{w['ada'].pk}/rename", {"name": "Ada"}), 302, True),
    Action("hide button", roles.EDITOR, lambda c, w: c.post(f"/people/{w['ada'].pk}/hide", {"hidden": "1"}), 302, True),
    Action("merge form", roles.EDITOR, lambda c, w: c.post(f"/people/{w['bob'].pk}/merge", {"into": w["ada"].pk}), 302, True),
    Action("un-merge button", roles.EDITOR, lambda c, w: c.post(f"/people/{w['ada'].pk}/unmerge/{w['cy'].pk}"), 302, True),
    Action("split button", roles.EDITOR, lambda c, w: c.post(f"/face-tracks/{w['track'].pk}/split"), 302, True),
    Action("not this person button", roles.EDITOR, lambda c, w: c.post(f"/face-tracks/{w['track'].pk}/reject"), 302, True),
    Action("delete person button", roles.EDITOR, lambda c, w: c.post(f"/people/{w['bob'].pk}/delete"), 302, True),
    # Django admin sends signed-in users who aren't staff to its login page.
    Action("admin site", roles.ADMIN, lambda c, w: c.get("/admin/"), 200, False, refused=302),
    Action("user list with roles", roles.ADMIN, lambda c, w: c.get("/admin/auth/user/"), 200, False, refused=302),
    Action("set a role in admin", roles.ADMIN, _role_action(roles.EDITOR), 302, True, refused=302),
    Action("tag vocabulary admin", roles.ADMIN, lambda c, w: c.get("/admin/assets/taglabel/"), 200, False, refused=302),
    Action("delete a tag label", roles.ADMIN, lambda c, w: c.post(
        "/admin/assets/taglabel/", {"action": "delete_selected", "post": "yes",
                                    "_selected_action": [TagLabel.objects.order_by("pk").first().pk]}),
        302, True, refused=302),
]


def _user_for(role: str):
    return None if role == ANONYMOUS else user_with_role(role, role)


@pytest.mark.parametrize("role", EVERYONE)
@pytest.mark.parametrize("action", API_ACTIONS, ids=lambda a: a.name)
def test_every_api_endpoint_for_each_role(world, tag_labels, role, action, django_capture_on_commit_callbacks):
    client = api_client_for(_user_for(role))
    before = library_state()
    with django_capture_on_commit_callbacks(execute=True):
        response = action.send(client, world)
    assert response.status_code == 204 or response["Content-Type"].startswith("application/json")
    if allowed(action, role):
        assert response.status_code == action.ok, response.content
        assert (library_state() != before) == action.changes
        return
    assert response.status_code == (401 if role == ANONYMOUS else 403)
    if role != ANONYMOUS:
        detail = response.json()["detail"]
        assert f"you are a {role}" in detail and f"the {action.lowest_role} role" in detail  # only viewers are refused here
    assert library_state() == before


@pytest.mark.parametrize("role", EVERYONE)
@pytest.mark.parametrize("action", PAGE_ACTIONS, ids=lambda a: a.name)
def test_every_page_action_for_each_role(world, tag_labels, role, action, django_capture_on_commit_callbacks):
    client = Client()
    if role != ANONYMOUS:
        client.force_login(_user_for(role))
    before = library_state()
    with django_capture_on_commit_callbacks(execute=True):
        response = action.send(client, world)
    if allowed(action, role):
        assert response.status_code == action.ok
        assert (library_state() != before) == action.changes
        return
    if role == ANONYMOUS:
        assert response.status_code == 302 and "login/?next=" in response["Location"]
    else:
        assert response.status_code == action.refused
        if action.refused == 403:  # a page of the app, not a bare error
            page = response.content.decode()
            assert "Not allowed" in page and f"the {action.lowest_role} role" in page and "Library" in page
    assert library_state() == before


@pytest.fixture
def tag_labels(db):
    if not TagLabel.objects.exists():
        TagLabel.objects.create(name="circle", name_zh="圆形", prompts="a circle")


def test_the_refusal_names_the_role_and_what_it_allows(viewer_api, world):
    response = viewer_api.delete(f"/api/assets/{world['asset'].pk}")
    assert response.json() == {"detail": "Only editors and admins can delete assets; you are a viewer. "
                                         "Ask an admin to give you the editor role."}


def test_a_refusal_reads_well_whatever_the_role(editor, viewer):
    assert roles.refusal(user=editor, permission="assets.change_taglabel") == (
        "Only admins can do this; you are an editor. Ask an admin to give you the admin role.")
    viewer.groups.clear()  # a user whose role an admin removed by hand
    assert roles.refusal(user=viewer, permission="search.add_search") == (
        "Only viewers, editors and admins can search the library; you have no role yet. "
        "Ask an admin to give you the viewer role.")


def test_pages_show_a_viewer_no_buttons_for_changes(client, viewer, world):
    client.force_login(viewer)
    library = client.get("/").content.decode()
    asset_page = client.get(f"/assets/{world['asset'].pk}/").content.decode()
    for page in (library, asset_page):
        assert 'href="/upload/"' not in page and 'href="/admin/"' not in page
    for form in ("/reprocess", "/delete", "/edit"):
        assert f'action="/assets/{world["asset"].pk}{form}"' not in asset_page


def test_pages_show_an_editor_the_change_buttons_but_no_admin_link(client, editor, world):
    client.force_login(editor)
    asset_page = client.get(f"/assets/{world['asset'].pk}/").content.decode()
    assert 'href="/upload/"' in asset_page and 'href="/admin/"' not in asset_page
    for form in ("/reprocess", "/delete", "/edit"):
        assert f'action="/assets/{world["asset"].pk}{form}"' in asset_page
    assert 'value="Flood at the bridge"' in asset_page  # the edit form starts from the current title


def test_pages_show_an_admin_the_admin_link(client, admin, world):
    client.force_login(admin)
    assert 'href="/admin/"' in client.get("/").content.decode()


def test_the_user_admin_lists_and_filters_by_role(client, admin, viewer, editor):
    client.force_login(admin)
    page = client.get("/admin/auth/user/", {"role": "editor"}).content.decode()
    assert editor.username in page and viewer.username not in page
    assert "<th" in page and "Role" in page


def test_set_role_command_gives_a_role_and_says_so(viewer, capsys):
    call_command("set_role", viewer.username, "editor")
    assert capsys.readouterr().out.strip() == f"{viewer.username} is now an editor."
    viewer = get_user_model().objects.get(pk=viewer.pk)
    assert roles.role_of(viewer) == "editor" and viewer.has_perm("assets.delete_asset") and not viewer.is_staff
    call_command("set_role", viewer.username, "admin")
    viewer = get_user_model().objects.get(pk=viewer.pk)
    assert roles.role_of(viewer) == "admin" and viewer.is_staff and viewer.has_perm("assets.change_taglabel")
    call_command("set_role", viewer.username, "viewer")
    viewer = get_user_model().objects.get(pk=viewer.pk)
    assert roles.role_of(viewer) == "viewer" and not viewer.is_staff and not viewer.has_perm("assets.add_asset")
    assert list(viewer.groups.values_list("name", flat=True)) == ["viewer"]


@pytest.mark.parametrize("args, message", [
    (["nobody", "editor"], "There is no user named 'nobody'"),
    (["{viewer}", "boss"], "'boss' is not a role; choose one of viewer, editor, admin."),
])
def test_set_role_command_refuses_unknown_users_and_roles(viewer, args, message):
    with pytest.raises(CommandError, match=message):
        call_command("set_role", *[arg.format(viewer=viewer.username) for arg in args])
    assert roles.role_of(viewer) == "viewer"


def test_createsuperuser_makes_an_admin(db, monkeypatch):
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", factories.PASSWORD)
    call_command("createsuperuser", "--noinput", username="chief", email="chief@example.org", verbosity=0)
    chief = get_user_model().objects.get(username="chief")
    assert roles.role_of(chief) == "admin" and chief.is_staff
    assert list(chief.groups.values_list("name", flat=True)) == ["admin"]


def test_a_new_user_is_a_viewer(db):
    user = get_user_model().objects.create_user(username="newbie", password=factories.PASSWORD)
    assert roles.role_of(user) == "viewer"
    assert user.has_perm("search.add_feedback") and not user.has_perm("assets.add_asset") and not user.is_staff


def test_a_demoted_superuser_loses_admin(db):
    boss = get_user_model().objects.create_superuser(username="boss", password=factories.PASSWORD)
    roles.role_set(user=boss, role=roles.EDITOR)
    boss = get_user_model().objects.get(pk=boss.pk)
    assert roles.role_of(boss) == "editor" and not boss.is_superuser and not boss.is_staff


migration = importlib.import_module("mediahub.core.migrations.0002_roles")
people_migration = importlib.import_module("mediahub.core.migrations.0003_people_roles")
briefs_migration = importlib.import_module("mediahub.core.migrations.0004_brief_roles")
rights_migration = importlib.import_module("mediahub.core.migrations.0005_rights_policy_role")
operations_migration = importlib.import_module("mediahub.core.migrations.0006_operations_role")


def test_the_migrations_and_the_access_module_agree_on_the_roles():
    assert migration.ROLES == roles.ROLES == people_migration.ROLES
    together = {role: migration.ROLE_ADDS[role] + people_migration.ROLE_ADDS[role] + briefs_migration.ROLE_ADDS[role]
                + rights_migration.ROLE_ADDS[role] + operations_migration.ROLE_ADDS[role] for role in roles.ROLES}
    assert together == roles.ROLE_ADDS


def test_the_migration_makes_the_groups_and_gives_existing_users_a_role(db):
    users = get_user_model().objects
    chief = users.create_superuser(username="chief", password=factories.PASSWORD)
    uploader, reader = factories.user("uploader"), factories.user("reader")
    make_asset(uploader)
    Group.objects.filter(name__in=roles.ROLES).delete()  # as before the migration
    users.filter(pk=chief.pk).update(is_staff=False)

    migration.create_roles(django_apps, None)
    people_migration.add_people_permissions(django_apps, None)
    briefs_migration.add_brief_permissions(django_apps, None)
    rights_migration.add_rights_policy_permissions(django_apps, None)
    operations_migration.add_operations_permission(django_apps, None)

    for role in roles.ROLES:
        group = Group.objects.get(name=role)
        granted = {f"{p.content_type.app_label}.{p.codename}" for p in group.permissions.select_related("content_type")}
        assert granted == roles.role_permissions(role)
    assert [roles.role_of(users.get(pk=u.pk)) for u in (chief, uploader, reader)] == ["admin", "editor", "viewer"]
    assert users.get(pk=chief.pk).is_staff


def test_the_tag_vocabulary_admin_is_for_admins_even_if_an_editor_is_made_staff(client, editor, admin, tag_labels):
    get_user_model().objects.filter(pk=editor.pk).update(is_staff=True)
    client.force_login(editor)
    assert client.get("/admin/assets/taglabel/").status_code == 403
    client.force_login(admin)
    assert "circle" in client.get("/admin/assets/taglabel/", {"vocabulary__exact": "demo"}).content.decode()


def test_an_admin_gives_roles_with_the_user_admin_actions(client, admin, viewer, editor):
    client.force_login(admin)
    response = client.post("/admin/auth/user/", {"action": "make_editor", "_selected_action": [viewer.pk]}, follow=True)
    assert "1 user(s) are now editors." in response.content.decode()
    client.post("/admin/auth/user/", {"action": "make_viewer", "_selected_action": [editor.pk]})
    users = get_user_model().objects
    assert (roles.role_of(users.get(pk=viewer.pk)), roles.role_of(users.get(pk=editor.pk))) == ("editor", "viewer")
