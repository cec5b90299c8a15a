"""The one set of rules for editing an asset's metadata: PATCH /api/assets/{id}, the asset page's form and
bulk edit all validate through AssetMetadataSerializer, so a value is refused with the same sentence
wherever it is typed."""

import re
from datetime import timedelta

from django.utils import timezone
from rest_framework import serializers
from rest_framework.exceptions import ValidationError

from mediahub.assets.models import BULK_EDITABLE_FIELDS, Asset

MAX_KEYWORDS = 50
# A keyword list typed on a page: commas, Chinese commas, enumeration commas, semicolons or new lines.
KEYWORD_SEPARATORS = re.compile(r"[,，、;；\n]+")


def keywords_from_text(text: str) -> list[str]:
    return KEYWORD_SEPARATORS.split(text)


class KeywordsField(serializers.ListField):
    child = serializers.CharField(max_length=100, allow_blank=True)

    def to_internal_value(self, data):
        if isinstance(data, str):
            raise ValidationError("Send a list of words, such as [\"flood\", \"bridge\"].")
        unique: dict[str, str] = {}
        for keyword in super().to_internal_value(data):
            keyword = " ".join(keyword.split())
            if keyword:
                unique.setdefault(keyword.casefold(), keyword)
        if len(unique) > MAX_KEYWORDS:
            raise ValidationError(f"Give at most {MAX_KEYWORDS} keywords.")
        return list(unique.values())


class RightsSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=Asset.Rights.choices, allow_blank=True, allow_null=True, required=False, help_text=(
        "cleared, restricted or do_not_use; null until someone has checked."), error_messages={
        "invalid_choice": "must be cleared, restricted or do_not_use, not \"{input}\"."})
    note = serializers.CharField(allow_blank=True, required=False, max_length=2000, help_text="Usage restrictions in words.")


class AssetMetadataSerializer(serializers.Serializer):
    """Validates a partial change; `changes()` gives the model fields (EDITABLE_FIELDS) to set."""

    title = serializers.CharField(max_length=300, required=False)
    description = serializers.CharField(allow_blank=True, required=False)
    keywords = KeywordsField(required=False, help_text="Words the footage is found by; duplicates are dropped.")
    location = serializers.CharField(max_length=200, allow_blank=True, required=False)
    shot_date = serializers.DateField(allow_null=True, required=False, help_text="ISO date, such as 2026-11-30.")
    source = serializers.CharField(max_length=200, allow_blank=True, required=False)
    credit = serializers.CharField(max_length=200, allow_blank=True, required=False)
    rights = RightsSerializer(required=False)
    embargo_until = serializers.DateTimeField(allow_null=True, required=False,
                                              help_text="ISO date-time; without a zone it is taken as UTC.")
    notes = serializers.CharField(allow_blank=True, required=False, max_length=10000)

    def to_internal_value(self, data):
        if not hasattr(data, "keys"):
            raise ValidationError({"detail": "Send a JSON object with the fields to change, such as {\"title\": \"...\"}."})
        unknown = sorted(set(data) - set(self.fields))
        if unknown:
            raise ValidationError({"detail": f"{', '.join(unknown)}: cannot be changed here; "
                                             f"send only {', '.join(self.fields)}."})
        return super().to_internal_value(data)

    def validate_shot_date(self, value):
        if value is not None and value > (timezone.now() + timedelta(days=1)).date():
            raise ValidationError("The date shot can't be in the future.")
        return value

    def changes(self) -> dict:
        values = dict(self.validated_data)
        rights = values.pop("rights", {})
        if "status" in rights:
            values["rights_status"] = rights["status"] or ""
        if "note" in rights:
            values["rights_note"] = rights["note"]
        return values


class BulkMetadataSerializer(AssetMetadataSerializer):
    """What bulk edit sets on several assets: the fields of BULK_EDITABLE_FIELDS."""

    def get_fields(self):
        bulk = {"rights" if field.startswith("rights_") else field for field in BULK_EDITABLE_FIELDS}
        return {name: field for name, field in super().get_fields().items() if name in bulk}
