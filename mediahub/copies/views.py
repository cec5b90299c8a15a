"""The check page: drop a clip, see where the library already holds its footage. Nothing is stored."""

from django.shortcuts import render
from django.views.decorators.http import require_http_methods

from mediahub.copies import selectors
from mediahub.core.roles import page_requires
from mediahub.core.throttling import UserScopedRateThrottle


class _CheckScope:
    """The page shares the API's throttle: a check decodes the clip in the web process."""

    throttle_scope = "copy_check"


@require_http_methods(["GET", "POST"])
@page_requires("assets.view_asset")
def check(request):
    context = {"checked": False, "max_bytes": selectors.check_max_bytes()}
    if request.method == "POST":
        throttle = UserScopedRateThrottle()
        if not throttle.allow_request(request, _CheckScope):
            context["error"] = f"Too many checks for now; try again in {throttle.wait() or 60:.0f} seconds."
            return render(request, "copies/check.html", context, status=429)
        upload = request.FILES.get("file")
        if upload is None:
            context["error"] = "Choose a video or an image to check."
            return render(request, "copies/check.html", context, status=400)
        try:
            found = selectors.copies_check(upload=upload, user=request.user)
        except selectors.CheckRefused as exc:
            context["error"] = str(exc)
            return render(request, "copies/check.html", context, status=exc.status)
        context.update(checked=True, name=upload.name, results=[
            {"copy": copy, "segments": selectors.segment_rows(copy.segments)} for copy in found])
    return render(request, "copies/check.html", context)
