from django import template

from mediahub.core import interface

register = template.Library()


@register.filter
def status_label(status: str) -> str:
    """An asset status ("ready") in the page's language."""
    return interface.status_label(status)


@register.filter
def kind_label(kind: str) -> str:
    """An asset kind ("video") in the page's language."""
    return interface.kind_label(kind)
