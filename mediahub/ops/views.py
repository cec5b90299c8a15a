import time

from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_POST

from mediahub.core.roles import page_requires
from mediahub.ops import selectors, services


@require_GET
@page_requires("ops.view_operations")
def operations(request):
    """Queues, workers, the last hour's ingest, failed assets by error and the slowest searches."""
    now = timezone.now()
    throughput = selectors.ingest_throughput(now=now)
    return render(request, "ops/operations.html", {
        "queues": selectors.queues_read(),
        "workers": selectors.workers_read(now=time.time()),
        "throughput": throughput,
        "throughput_assets": sum(bucket.assets for bucket in throughput),
        "throughput_seconds": sum(bucket.seconds for bucket in throughput),
        "bucket_minutes": int(selectors.THROUGHPUT_BUCKET.total_seconds() // 60),
        "failure_groups": selectors.failed_asset_groups(),
        "slowest_searches": selectors.slowest_searches(now=now),
    })


@require_POST
@page_requires("ops.view_operations")
def failed_retry(request):
    """The "Retry all" button of an error group: every failed asset with that sentence goes through the pipeline again."""
    count = services.failed_assets_retry(error=request.POST.get("error", ""))
    messages.success(request, ngettext("%(count)d failed asset is queued for processing again.",
                                       "%(count)d failed assets are queued for processing again.", count) % {"count": count})
    return redirect("ops:operations")
