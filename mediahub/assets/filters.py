"""Query filters and pages of the asset list (django-filter, DRF pagination)."""

import django_filters
from django.core.paginator import Paginator
from django_filters.rest_framework import DjangoFilterBackend
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response

from mediahub.assets.models import Asset
from mediahub.assets.selectors import RIGHTS_FILTER_VALUES, assets_with_metadata

BOOLEAN_VALUES = ("true", "false")


def _choice_filter(name: str, values, **kwargs) -> django_filters.ChoiceFilter:
    message = f"{name} must be one of {', '.join(values)}, not %(value)r."
    return django_filters.ChoiceFilter(choices=[(value, value) for value in values],
                                       error_messages={"invalid_choice": message}, **kwargs)


class AssetFilter(django_filters.FilterSet):
    """The asset list API's and the library page's filters."""

    status = _choice_filter("status", Asset.Status.values)
    kind = _choice_filter("kind", Asset.Kind.values)
    source = django_filters.CharFilter(method="_metadata", max_length=200,
                                       help_text="Who supplied it, any case (an exact name, such as Reuters).")
    rights = _choice_filter("rights", RIGHTS_FILTER_VALUES, method="_metadata",
                            help_text="The rights status, or unset for footage nobody has checked.")
    embargoed = _choice_filter("embargoed", BOOLEAN_VALUES, method="_metadata",
                               help_text="true: under embargo now; false: free of any embargo now.")

    class Meta:
        model = Asset
        fields = ["status", "kind", "source", "rights", "embargoed"]

    def _metadata(self, assets, name: str, value):
        if name == "embargoed":
            value = value == "true"
        return assets_with_metadata(assets, **{name: value})


class SentenceFilterBackend(DjangoFilterBackend):
    """A bad filter value is a 400 whose detail is the field's own sentence."""

    def filter_queryset(self, request, queryset, view):
        filterset = self.get_filterset(request, queryset, view)
        if filterset is None:
            return queryset
        if not filterset.is_valid():
            raise ValidationError({"detail": " ".join(m for errors in filterset.errors.values() for m in errors)})
        return filterset.qs


class _PastTheEndIsEmpty(Paginator):
    """A page after the last is empty rather than an error (clients page until results run out)."""

    def validate_number(self, number):
        number = super().validate_number(number) if int(number) <= max(self.num_pages, 1) else int(number)
        return number


class AssetPagination(PageNumberPagination):
    page_size = 50
    django_paginator_class = _PastTheEndIsEmpty

    def get_page_number(self, request, paginator):
        raw = request.query_params.get(self.page_query_param, "1")
        if not raw.isdigit() or int(raw) < 1:
            raise ValidationError({"detail": f"page must be a whole number from 1, not {raw!r}."})
        return int(raw)

    def get_paginated_response(self, data):
        return Response({"count": self.page.paginator.count, "page": self.page.number, "page_size": self.page_size,
                         "results": data})

    def get_paginated_response_schema(self, schema):
        return {"type": "object", "required": ["count", "page", "page_size", "results"], "properties": {
            "count": {"type": "integer", "description": "Items in all pages."},
            "page": {"type": "integer", "description": "This page's number, from 1."},
            "page_size": {"type": "integer", "description": "Items per page; a page after the last is empty."},
            "results": {**schema, "description": "This page's items."}}}
