"""Validation of search parameters, shared by the search page and the API."""

from django import forms

from mediahub.assets.models import Asset, TagLabel
from mediahub.assets.selectors import RIGHTS_FILTER_VALUES
from mediahub.people.selectors import SearchPerson, search_person_resolve
from mediahub.search.selectors import SearchFilters, tag_labels_active

MAX_LIMIT = 100
DEFAULT_LIMIT = 20


class SearchFiltersForm(forms.Form):
    """The filters every kind of search accepts; errors are sentences a person can act on."""

    kind = forms.ChoiceField(choices=[("", "all")] + Asset.Kind.choices, required=False,
                             error_messages={"invalid_choice": "kind must be video or image, not %(value)r."})
    tag = forms.CharField(required=False, max_length=100)
    person = forms.IntegerField(required=False, error_messages={"invalid": "person must be a person id (a number)."})
    asset = forms.IntegerField(required=False, error_messages={"invalid": "asset must be an asset id (a number)."})
    after = forms.DateField(required=False, input_formats=["%Y-%m-%d"],
                            error_messages={"invalid": "after must be an ISO date such as 2026-11-23."})
    before = forms.DateField(required=False, input_formats=["%Y-%m-%d"],
                             error_messages={"invalid": "before must be an ISO date such as 2026-11-23."})
    source = forms.CharField(required=False, max_length=200,
                             error_messages={"max_length": "source must be at most 200 characters."})
    rights = forms.ChoiceField(choices=[("", "any")] + [(v, v) for v in RIGHTS_FILTER_VALUES], required=False,
                               error_messages={"invalid_choice": f"rights must be one of {', '.join(RIGHTS_FILTER_VALUES)}, "
                                                                 "not %(value)r."})
    embargoed = forms.CharField(required=False)
    limit = forms.IntegerField(required=False, min_value=1, max_value=MAX_LIMIT,
                               error_messages={"invalid": f"limit must be a whole number from 1 to {MAX_LIMIT}.",
                                               "min_value": f"limit must be from 1 to {MAX_LIMIT}.",
                                               "max_value": f"limit must be from 1 to {MAX_LIMIT}."})
    explain = forms.BooleanField(required=False)

    def clean_tag(self) -> TagLabel | None:
        name = self.cleaned_data["tag"].strip()
        if not name:
            return None
        labels = tag_labels_active()
        label = labels.filter(name__iexact=name).first() or labels.filter(name_zh=name).first()
        if label is None:
            raise forms.ValidationError(f"There is no tag named {name!r}; use a tag shown on an asset page.")
        return label

    def clean_asset(self) -> int | None:
        asset = self.cleaned_data["asset"]
        if asset is not None and not Asset.objects.filter(pk=asset).exists():
            raise forms.ValidationError(f"There is no asset {asset} to search in.")
        return asset

    def clean_embargoed(self) -> bool | None:
        """true or false (a brief's stored filters hold JSON booleans, which arrive as True or False)."""
        raw = str(self.cleaned_data["embargoed"]).strip().lower()
        if not raw:
            return None
        if raw not in ("true", "false"):
            raise forms.ValidationError(f"embargoed must be true or false, not {self.data.get('embargoed')!r}.")
        return raw == "true"

    def clean_person(self) -> SearchPerson | None:
        person_id = self.cleaned_data["person"]
        if person_id is None:
            return None
        person = search_person_resolve(person_id=person_id)
        if person is None:
            raise forms.ValidationError(f"There is no person {person_id} to search for; person must be the id of "
                                        "a person on the people page (/api/people).")
        return person

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("after") and cleaned.get("before") and cleaned["after"] > cleaned["before"]:
            raise forms.ValidationError("after must not be later than before.")
        return cleaned

    def filters(self) -> SearchFilters:
        data = self.cleaned_data
        return SearchFilters(kind=data.get("kind") or None, tag=data.get("tag"), asset=data.get("asset"),
                             after=data.get("after"), before=data.get("before"),
                             person=data["person"].id if data.get("person") else None,
                             people=data["person"].track_people if data.get("person") else (),
                             source=data.get("source") or None, rights=data.get("rights") or None,
                             embargoed=data.get("embargoed"))

    @property
    def result_limit(self) -> int:
        return self.cleaned_data.get("limit") or DEFAULT_LIMIT

    def first_error(self) -> str:
        return next(iter(message for messages in self.errors.values() for message in messages))


class TextSearchForm(SearchFiltersForm):
    q = forms.CharField(max_length=500, strip=True, error_messages={
        "required": "Type what you are looking for in q, e.g. ?q=a flood at the bridge.",
        "max_length": "The query is too long; keep it under 500 characters."})

    def clean_q(self) -> str:
        return " ".join(self.cleaned_data["q"].split())
