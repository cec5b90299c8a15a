"""Query filters and pages of the asset list (django-filter, DRF pagination)."""

import django_filters
from django.core.paginator import Paginator
from django_filters.rest_framework import DjangoFilterBackend
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response

from mediahub.assets.models import Asset


def _choice_filter(name: str, choices) -> django_filters.ChoiceFilter:
    message = f"{name} must be one of {', '.join(choices.values)}, not %(value)r."
    return django_filters.ChoiceFilter(choices=choices.choices, error_messages={"invalid_choice": message})


class AssetFilter(django_filters.FilterSet):
    status = _choice_filter("status", Asset.Status)
    kind = _choice_filter("kind", Asset.Kind)

    class Meta:
        model = Asset
        fields = ["status", "kind"]


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
