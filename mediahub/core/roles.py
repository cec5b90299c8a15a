"""Roles (CONTRACT.md section 6): viewer, editor, admin, held as Django groups with their permissions.

Every access check of the API and the pages goes through this module: a DRF permission class for
the API modules and a decorator for the page views. Both check Django permissions, which a user
has through their role's group, and refuse with a sentence naming the role needed.
"""

from __future__ import annotations

import functools

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser, Group, Permission
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Q
from rest_framework.permissions import BasePermission

VIEWER, EDITOR, ADMIN = "viewer", "editor", "admin"
ROLES = (VIEWER, EDITOR, ADMIN)  # each role may do everything the one before it may

# What each role adds to the one before it. `0002_roles` holds a copy (migrations don't import
# application code), `0003_people_roles` the people permissions, `0004_brief_roles` the briefs',
# `0005_rights_policy_role` the rights policy's, `0006_operations_role` the operations page's; a test keeps
# them equal.
ROLE_ADDS = {
    VIEWER: ("assets.view_asset", "search.add_search", "search.add_feedback", "people.view_person",
             "briefs.view_brief", "briefs.add_brief"),
    EDITOR: ("assets.add_asset", "assets.change_asset", "assets.delete_asset", "people.change_person",
             "people.delete_person"),
    ADMIN: ("assets.view_taglabel", "assets.add_taglabel", "assets.change_taglabel", "assets.delete_taglabel",
            "auth.view_user", "auth.add_user", "auth.change_user", "auth.delete_user", "auth.view_group",
            "core.view_apitoken", "core.delete_apitoken", "assets.view_rightspolicy",
            "assets.add_rightspolicy", "assets.change_rightspolicy", "ops.view_operations"),
}


def role_permissions(role: str) -> set[str]:
    """The permissions ("app_label.codename") a role has, its predecessors' included."""
    upto = ROLES.index(role) + 1
    return {perm for earlier in ROLES[:upto] for perm in ROLE_ADDS[earlier]}


def role_needed(permission: str) -> str:
    """The lowest role that has `permission`."""
    return next(role for role in ROLES if permission in role_permissions(role))


# What a permission lets a user do, for refusals ("Only editors and admins can <this>").
_DOINGS = {
    "assets.view_asset": "see the library",
    "search.add_search": "search the library",
    "search.add_feedback": "give feedback on search results",
    "assets.add_asset": "upload",
    "assets.change_asset": "edit or reprocess assets",
    "assets.delete_asset": "delete assets",
    "people.view_person": "see the people",
    "people.change_person": "name, merge, split or hide people",
    "people.delete_person": "delete people and their faces",
    "briefs.view_brief": "open briefs",
    "briefs.add_brief": "make briefs",
    "assets.change_rightspolicy": "decide whether viewers see embargoed or do-not-use footage",
    "ops.view_operations": "see the operations page",
}


def role_of(user) -> str | None:
    """The user's role: the highest role group they are in (superusers are admins); None if none."""
    if not user.is_authenticated:
        return None
    if user.is_superuser:
        return ADMIN
    names = {group.name for group in user.groups.all()}
    return next((role for role in reversed(ROLES) if role in names), None)


def refusal(*, user, permission: str) -> str:
    """A sentence saying which role `permission` needs and what the user is."""
    needed = role_needed(permission)
    *others, last = [f"{role}s" for role in ROLES[ROLES.index(needed):]]
    allowed = f"{', '.join(others)} and {last}" if others else last
    doing = _DOINGS.get(permission, "do this")
    current = role_of(user)
    you_are = f"you are {with_article(current)}" if current else "you have no role yet"
    return f"Only {allowed} can {doing}; {you_are}. Ask an admin to give you the {needed} role."


def with_article(role: str) -> str:
    return f"an {role}" if role[0] in "aeiou" else f"a {role}"


def _role_group(role: str) -> Group:
    """The role's group; made with its permissions if missing (a test database's flush removes it)."""
    group, created = Group.objects.get_or_create(name=role)
    if created:
        wanted = Q()
        for perm in role_permissions(role):
            app_label, codename = perm.split(".")
            wanted |= Q(content_type__app_label=app_label, codename=codename)
        group.permissions.set(Permission.objects.filter(wanted))
    return group


def _forget_cached_permissions(user) -> None:
    for cache in ("_perm_cache", "_user_perm_cache", "_group_perm_cache"):
        user.__dict__.pop(cache, None)


@transaction.atomic
def role_set(*, user: AbstractBaseUser, role: str) -> None:
    """Give `user` exactly one role. Admins are staff (they use Django admin); others are neither staff nor superuser."""
    if role not in ROLES:
        raise ValueError(f"{role!r} is not a role; choose one of {', '.join(ROLES)}.")
    user.groups.remove(*Group.objects.filter(name__in=ROLES).exclude(name=role))
    user.groups.add(_role_group(role))
    is_admin = role == ADMIN
    staff_fields = {"is_staff": is_admin} if is_admin else {"is_staff": False, "is_superuser": False}
    if any(getattr(user, field) != value for field, value in staff_fields.items()):
        for field, value in staff_fields.items():
            setattr(user, field, value)
        get_user_model().objects.filter(pk=user.pk).update(**staff_fields)
    _forget_cached_permissions(user)


def give_new_user_a_role(sender, instance, created: bool, raw: bool = False, **kwargs) -> None:
    """post_save of the user model: a new superuser (`createsuperuser`) is an admin, anyone else a viewer."""
    if created and not raw:
        role_set(user=instance, role=ADMIN if instance.is_superuser else VIEWER)


def user_can(*, user, permission: str) -> bool:
    return user.is_authenticated and user.is_active and user.has_perm(permission)


class RolePermission(BasePermission):
    """DRF: the request's method needs the permission `view.required_permissions[method]`.

    An API module sets this once on its base view with its table; a method missing from the
    table needs the table's "GET" permission. Signed-out requests get DRF's 401.
    """

    message = "You do not have permission to do this."

    def has_permission(self, request, view) -> bool:
        if not request.user.is_authenticated:
            return False
        table = view.required_permissions
        permission = table.get(request.method, table["GET"])
        if user_can(user=request.user, permission=permission):
            return True
        self.message = refusal(user=request.user, permission=permission)
        return False


def page_requires(permission: str):
    """Page views: refuse with the friendly 403 page (naming the role needed) unless the user has `permission`."""

    def decorate(view):
        @functools.wraps(view)
        def guarded(request, *args, **kwargs):
            if not user_can(user=request.user, permission=permission):
                raise PermissionDenied(refusal(user=request.user, permission=permission))
            return view(request, *args, **kwargs)

        return guarded

    return decorate
