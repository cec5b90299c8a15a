"""Reads of assets for pages and the API."""

from datetime import timedelta

from django.db.models import Exists, Prefetch, Q, QuerySet
from django.db.models.functions import Now
from django.utils import timezone

from mediahub.assets.models import Asset, AssetChange, AssetTag, Frame, RightsPolicy
from mediahub.core.roles import user_can

# The rights filter's values: a status, or "unset" for footage nobody has checked yet.
RIGHTS_UNSET = "unset"
RIGHTS_FILTER_VALUES = (*Asset.Rights.values, RIGHTS_UNSET)


def asset_list(*, user=None, status: str | None = None, kind: str | None = None) -> QuerySet[Asset]:
    """The assets `user` may see (all of them for user None: code acting for nobody in particular)."""
    assets = assets_visible(user=user).select_related("owner").prefetch_related(
        Prefetch("tags", queryset=AssetTag.objects.select_related("label").order_by("start", "label__name")))
    if status:
        assets = assets.filter(status=status)
    if kind:
        assets = assets.filter(kind=kind)
    return assets


def assets_visible(*, user=None) -> QuerySet[Asset]:
    """The assets `user` may see: all of them for editors, admins and user None; for viewers, what the
    rights policy leaves them."""
    if user is not None and rights_policy_applies(user=user):
        return Asset.objects.filter(visible_to_viewers_q())
    return Asset.objects.all()


def asset_get(*, pk: int, user=None) -> Asset | None:
    return asset_list(user=user).filter(pk=pk).first()


# The rights policy (RightsPolicy, set by admins) applies to viewers: users who may not edit assets.
# Its conditions read the policy row inside the query that lists assets (an uncorrelated EXISTS,
# evaluated once), so it costs no query of its own and an admin's change holds from the next request.

def rights_policy_applies(*, user) -> bool:
    return not user_can(user=user, permission="assets.change_asset")


def rights_policy_get() -> RightsPolicy:
    """The policy row, or its defaults (everything shown) before an admin first saves it."""
    return RightsPolicy.objects.filter(pk=1).first() or RightsPolicy(pk=1)


def visible_to_viewers_q() -> Q:
    """The assets the policy lets viewers see (an embargo is judged at the query's time)."""
    hides_embargoed = RightsPolicy.objects.filter(pk=1, viewers_see_embargoed=False)
    hides_do_not_use = RightsPolicy.objects.filter(pk=1, viewers_see_do_not_use=False)
    return ((Q(embargo_until__isnull=True) | Q(embargo_until__lte=Now()) | ~Exists(hides_embargoed))
            & (~Q(rights_status=Asset.Rights.DO_NOT_USE) | ~Exists(hides_do_not_use)))


# The same condition in SQL on alias `a` (assets_asset), for the search's hand-written queries.
VISIBLE_TO_VIEWERS_SQL = (
    f"(a.embargo_until IS NULL OR a.embargo_until <= now() OR NOT EXISTS ("
    f"SELECT 1 FROM {RightsPolicy._meta.db_table} p WHERE p.id = 1 AND NOT p.viewers_see_embargoed))"
    f" AND (a.rights_status <> '{Asset.Rights.DO_NOT_USE}' OR NOT EXISTS ("
    f"SELECT 1 FROM {RightsPolicy._meta.db_table} p WHERE p.id = 1 AND NOT p.viewers_see_do_not_use))"
)


def assets_with_metadata(assets: QuerySet[Asset], *, source: str | None = None, rights: str | None = None,
                         embargoed: bool | None = None) -> QuerySet[Asset]:
    """The library and asset list filters: source (any case), rights status (or "unset"), under embargo now."""
    if source:
        assets = assets.filter(source__iexact=source)
    if rights:
        assets = assets.filter(rights_status="" if rights == RIGHTS_UNSET else rights)
    if embargoed is not None:
        under_embargo = Q(embargo_until__gt=Now())
        assets = assets.filter(under_embargo if embargoed else ~under_embargo | Q(embargo_until__isnull=True))
    return assets


def asset_sources(*, user) -> list[str]:
    """The sources of the assets `user` sees, each once (whatever its case), for the library's source filter."""
    sources = assets_visible(user=user).exclude(source="").order_by().values_list("source", flat=True).distinct()
    unique: dict[str, str] = {}
    for source in sorted(sources):
        unique.setdefault(source.casefold(), source)
    return sorted(unique.values(), key=str.casefold)


def asset_frames(*, asset: Asset) -> QuerySet[Frame]:
    return Frame.objects.filter(asset=asset).order_by("index")


def asset_frame(*, asset_id: int, index: int, user=None) -> Frame | None:
    return Frame.objects.filter(asset_id=asset_id, index=index, asset__in=assets_visible(user=user)).first()


def asset_history(*, asset: Asset) -> QuerySet[AssetChange]:
    """The asset's metadata changes, newest first (each with who, when, via and {field: {from, to}})."""
    return AssetChange.objects.filter(asset=asset).order_by("-created_at", "-id")


def runs_unfinished_idle(*, idle_for: timedelta) -> set[tuple[int, str]]:
    """(asset id, run id) of the unfinished assets whose state has not changed for `idle_for`."""
    rows = Asset.objects.filter(status__in=(Asset.Status.QUEUED, Asset.Status.PROCESSING),
                                updated_at__lt=timezone.now() - idle_for).values_list("pk", "run_id")
    return {(pk, str(run_id)) for pk, run_id in rows}
