"""Reads of assets for pages and the API."""

from django.db.models import Prefetch, QuerySet

from mediahub.assets.models import Asset, AssetChange, AssetTag, Frame


def asset_list(*, status: str | None = None, kind: str | None = None) -> QuerySet[Asset]:
    assets = Asset.objects.select_related("owner").prefetch_related(
        Prefetch("tags", queryset=AssetTag.objects.select_related("label").order_by("start", "label__name")))
    if status:
        assets = assets.filter(status=status)
    if kind:
        assets = assets.filter(kind=kind)
    return assets


def asset_get(*, pk: int) -> Asset | None:
    return asset_list().filter(pk=pk).first()


def asset_frames(*, asset: Asset) -> QuerySet[Frame]:
    return Frame.objects.filter(asset=asset).order_by("index")


def asset_frame(*, asset_id: int, index: int) -> Frame | None:
    return Frame.objects.filter(asset_id=asset_id, index=index).first()


def asset_history(*, asset: Asset) -> QuerySet[AssetChange]:
    """The asset's metadata changes, newest first (each with who, when, via and {field: {from, to}})."""
    return AssetChange.objects.filter(asset=asset).order_by("-created_at", "-id")
