"""Newsroom metadata as the pages show it: field names, history values and how a change was made, in the
page's language."""

from datetime import date, datetime

from django import template
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _

from mediahub.assets.forms import FIELD_LABELS, RIGHTS_LABELS, in_field_order
from mediahub.assets.models import AssetChange

register = template.Library()

VIA_LABELS = {
    AssetChange.Via.PAGE: _("on the asset page"),
    AssetChange.Via.BULK: _("in a bulk edit"),
    AssetChange.Via.API: _("through the API"),
}
EMPTY = "—"


@register.filter
def field_label(name: str) -> str:
    return FIELD_LABELS.get(name, name)


@register.filter
def fields_in_order(changes: dict) -> list[tuple[str, dict]]:
    """A history entry's {field: {from, to}} as (field, values) pairs in the form's order."""
    return [(field, changes[field]) for field in in_field_order(changes)]


@register.filter
def via_label(via: str) -> str:
    return VIA_LABELS.get(via, via)


@register.filter
def embargo_time(moment: datetime) -> str:
    """An embargo's end in the page's date format; embargoes are set and shown in UTC."""
    return f"{date_format(moment, 'DATETIME_FORMAT')} UTC"


@register.filter
def history_value(value, field: str) -> str:
    """A value of a history entry (as the API writes it) for people: rights in words, dates in the page's
    format, keywords as a list; "—" for nothing."""
    if value in (None, "", []):
        return RIGHTS_LABELS[""] if field == "rights_status" else EMPTY
    if field == "rights_status":
        return RIGHTS_LABELS.get(value, value)
    if field == "keywords" and isinstance(value, list):
        return ", ".join(value)
    try:
        if field == "shot_date":
            return date_format(date.fromisoformat(value), "DATE_FORMAT")
        if field == "embargo_until":
            return embargo_time(datetime.fromisoformat(value))
    except (TypeError, ValueError):
        pass  # written by something else than this version: shown as stored
    return str(value)
