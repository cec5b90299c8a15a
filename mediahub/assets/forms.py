"""The asset page's metadata form and the library's bulk edit form.

They render the fields and keep what was typed; the values are validated by the serializers of
mediahub/assets/metadata.py (as PATCH /api/assets/{id} is), so a page refuses a value with the API's sentence.
"""

from __future__ import annotations

from datetime import UTC

from django import forms
from django.utils.translation import gettext_lazy as _

from mediahub.assets.metadata import AssetMetadataSerializer, BulkMetadataSerializer, keywords_from_text
from mediahub.assets.models import EDITABLE_FIELDS, Asset

# The metadata fields (EDITABLE_FIELDS) as people read them: on the form, in the history and in messages.
FIELD_LABELS = {
    "title": _("Title"),
    "description": _("Description"),
    "keywords": _("Keywords"),
    "location": _("Location"),
    "shot_date": _("Date shot"),
    "source": _("Source"),
    "credit": _("Credit"),
    "rights_status": _("Rights"),
    "rights_note": _("Rights note"),
    "embargo_until": _("Embargo until (UTC)"),
    "notes": _("Notes"),
}
RIGHTS_LABELS = {
    "": _("Not checked"),
    Asset.Rights.CLEARED: _("Cleared"),
    Asset.Rights.RESTRICTED: _("Restricted"),
    Asset.Rights.DO_NOT_USE: _("Do not use"),
}
DATETIME_LOCAL = "%Y-%m-%dT%H:%M"  # what <input type="datetime-local"> sends and shows


def _field(name: str, widget: forms.Widget, **kwargs) -> forms.CharField:
    """A field that only carries what was typed: the serializer decides what is valid."""
    return forms.CharField(label=FIELD_LABELS[name], required=False, widget=widget, **kwargs)


def _line(maxlength: int) -> forms.TextInput:
    return forms.TextInput(attrs={"maxlength": maxlength})


def _box(rows: int) -> forms.Textarea:
    return forms.Textarea(attrs={"rows": rows})


def _messages(errors) -> list[str]:
    """The sentences of a serializer's errors for one field, however nested (a list's items are keyed by index)."""
    if isinstance(errors, dict):
        return [message for value in errors.values() for message in _messages(value)]
    if isinstance(errors, list):
        return [message for value in errors for message in _messages(value)]
    return [str(errors)]


class MetadataForm(forms.Form):
    """Runs the serializer over the typed values; each refusal is shown next to its field."""

    serializer_class: type[AssetMetadataSerializer]

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("label_suffix", "")  # labels sit above their fields
        super().__init__(*args, **kwargs)

    def api_data(self) -> dict:
        """The cleaned input in the shape PATCH /api/assets/{id} takes."""
        raise NotImplementedError

    def changes(self) -> dict | None:
        """The model fields to set, or None when any value is refused (nothing is to be saved then)."""
        if not self.is_valid():
            return None
        serializer = self.serializer_class(data=self.api_data())
        if serializer.is_valid():
            return serializer.changes()
        for name, errors in serializer.errors.items():
            if name == "rights" and isinstance(errors, dict):
                for part, part_errors in errors.items():
                    self.add_error(f"rights_{part}", _messages(part_errors))
            else:
                self.add_error(name if name in self.fields else None, _messages(errors))
        return None

    def error_summary(self) -> str:
        """Every refusal in a line, each after its field's label ("Date shot: ...")."""
        return " ".join(f"{self.fields[name].label}: {' '.join(errors)}" if name in self.fields else " ".join(errors)
                        for name, errors in self.errors.items())


class AssetMetadataForm(MetadataForm):
    """The asset page's form for editors: every field of EDITABLE_FIELDS at once."""

    serializer_class = AssetMetadataSerializer

    title = _field("title", _line(300))
    description = _field("description", _box(3))
    keywords = _field("keywords", _box(2), help_text=_("Separate them with commas or new lines."))
    location = _field("location", _line(200))
    shot_date = _field("shot_date", forms.DateInput(attrs={"type": "date"}))
    source = _field("source", _line(200))
    credit = _field("credit", _line(200))
    rights_status = _field("rights_status", forms.Select(choices=RIGHTS_LABELS.items()))
    rights_note = _field("rights_note", _box(2))
    embargo_until = _field("embargo_until", forms.DateTimeInput(attrs={"type": "datetime-local"}),
                           help_text=_("Leave empty for no embargo."))
    notes = _field("notes", _box(3))

    @classmethod
    def for_asset(cls, asset: Asset) -> AssetMetadataForm:
        """The form showing the asset's current values."""
        embargo = asset.embargo_until
        return cls(initial={
            "title": asset.title, "description": asset.description, "keywords": ", ".join(asset.keywords),
            "location": asset.location, "shot_date": asset.shot_date.isoformat() if asset.shot_date else "",
            "source": asset.source, "credit": asset.credit, "rights_status": asset.rights_status,
            "rights_note": asset.rights_note, "notes": asset.notes,
            "embargo_until": embargo.astimezone(UTC).strftime(DATETIME_LOCAL) if embargo else "",
        })

    def api_data(self) -> dict:
        data = self.cleaned_data
        return {
            "title": data["title"], "description": data["description"],
            "keywords": keywords_from_text(data["keywords"]), "location": data["location"],
            "shot_date": data["shot_date"] or None, "source": data["source"], "credit": data["credit"],
            "rights": {"status": data["rights_status"], "note": data["rights_note"]},
            "embargo_until": data["embargo_until"] or None,  # without a zone: UTC
            "notes": data["notes"],
        }


class BulkMetadataForm(MetadataForm):
    """The library's bulk edit: only the fields filled in are set on the selected assets."""

    serializer_class = BulkMetadataSerializer

    source = _field("source", _line(200))
    credit = _field("credit", _line(200))
    rights_status = _field("rights_status", forms.Select(
        choices=[("", _("(keep as it is)")), *list(RIGHTS_LABELS.items())[1:]]))
    rights_note = _field("rights_note", _box(2))
    embargo_until = _field("embargo_until", forms.DateTimeInput(attrs={"type": "datetime-local"}))
    clear_embargo = forms.BooleanField(label=_("Clear the embargo"), required=False)

    def clean(self):
        data = super().clean()
        if data.get("clear_embargo") and data.get("embargo_until"):
            self.add_error("embargo_until", _("Either give a new embargo or clear it, not both."))
        elif not self.api_data():
            raise forms.ValidationError(_("Fill in at least one field to set; empty fields are left as they are."))
        return data

    def api_data(self) -> dict:
        data = self.cleaned_data
        values = {name: data[name] for name in ("source", "credit") if data.get(name)}
        rights = {part: data[f"rights_{part}"] for part in ("status", "note") if data.get(f"rights_{part}")}
        if rights:
            values["rights"] = rights
        if data.get("clear_embargo"):
            values["embargo_until"] = None
        elif data.get("embargo_until"):
            values["embargo_until"] = data["embargo_until"]
        return values


def in_field_order(fields) -> list[str]:
    """The fields as the form shows them (EDITABLE_FIELDS' order)."""
    order = {name: index for index, name in enumerate(EDITABLE_FIELDS)}
    return sorted(fields, key=lambda name: order.get(name, len(order)))


def field_labels(fields) -> str:
    """The fields' labels in a list for a sentence, in the form's order: "Source, Credit"."""
    return ", ".join(str(FIELD_LABELS.get(name, name)) for name in in_field_order(fields))


class RightsPolicyForm(forms.Form):
    """The admins' rule on what viewers see (editors and admins always see everything, badged)."""

    viewers_see_embargoed = forms.BooleanField(required=False, label=_("Viewers see footage under embargo"))
    viewers_see_do_not_use = forms.BooleanField(required=False, label=_("Viewers see footage marked do not use"))
