"""The operations page's one write: retrying a group of failed assets."""

from __future__ import annotations

from mediahub.assets.services import asset_reprocess
from mediahub.ops.selectors import failed_assets_with_error


def failed_assets_retry(*, error: str) -> int:
    """Run the pipeline again for every failed asset whose error sentence is `error`; how many were queued."""
    assets = list(failed_assets_with_error(error))
    for asset in assets:
        asset_reprocess(asset=asset)  # each in its own transaction, enqueued once committed
    return len(assets)
