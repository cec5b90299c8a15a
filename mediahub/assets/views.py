"""Pages for the library, upload and one asset, and the media files they show."""

import mimetypes
import re
from pathlib import Path

from django.conf import settings
from django.contrib import messages
from django.core.files.storage import default_storage
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpResponse, HttpResponseRedirect, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_sendfile import sendfile

from mediahub.assets import selectors, services
from mediahub.assets.filters import AssetFilter
from mediahub.assets.forms import AssetMetadataForm, BulkMetadataForm, RightsPolicyForm, field_labels
from mediahub.assets.models import Asset, AssetChange
from mediahub.assets.storage import media_url, storage_is_local
from mediahub.assets.uploads import UploadTooLarge
from mediahub.copies.selectors import asset_copies, footage_sources
from mediahub.core.roles import page_requires, user_can
from mediahub.people.selectors import search_people_in_assets, search_tracks_on_screen
from mediahub.shots.models import LANGUAGES
from mediahub.shots.selectors import asset_shots, assets_with_alt_text, description_language
from mediahub.storage_url import PRESIGNED_SECONDS

LIBRARY_PAGE_SIZE = 48
HISTORY_PAGE_SIZE = 20
_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


def _get_asset_for_user(request, pk: int) -> Asset:
    """The asset, readable by any signed-in user (the library is shared by the newsroom) unless the rights
    policy hides it from viewers (embargoed or do-not-use footage): then it is as if it didn't exist."""
    asset = selectors.asset_get(pk=pk, user=request.user)
    if asset is None:
        raise Http404("There is no such asset; it may have been deleted.")
    return asset


@require_GET
def library(request):
    return _library_page(request)


def _library_page(request, *, bulk_form: BulkMetadataForm | None = None, selected: frozenset[int] = frozenset(),
                  status: int = 200):
    """The library (filtered as the asset list API is: AssetFilter, a page at a time); for editors, with bulk edit."""
    chosen = AssetFilter(request.GET, queryset=selectors.asset_list(user=request.user))
    context = {"chosen": request.GET, "statuses": Asset.Status.values, "kinds": Asset.Kind.values,
               "sources": selectors.asset_sources(user=request.user)}
    if not chosen.is_valid():
        error = " ".join(message for messages in chosen.errors.values() for message in messages)
        return render(request, "assets/library.html", {**context, "error": error}, status=400)
    assets = assets_with_alt_text(chosen.qs, lang=_page_language())
    page = Paginator(assets, LIBRARY_PAGE_SIZE).get_page(request.GET.get("page"))
    asset_ids = [asset.pk for asset in page.object_list]
    people = search_people_in_assets(asset_ids=asset_ids)
    sources = footage_sources(asset_ids=asset_ids, user=request.user)
    for asset in page.object_list:
        asset.people_seen = people.get(asset.pk, [])
        asset.footage_from = sources.get(asset.pk, [])
    if user_can(user=request.user, permission="assets.change_asset"):
        bulk_form = bulk_form or BulkMetadataForm()
    return render(request, "assets/library.html", {
        **context, "page": page, "bulk_form": bulk_form, "selected": selected, "query": request.GET.urlencode(),
        "filter_query": _without_page(request),
    }, status=status)


def _without_page(request) -> str:
    params = request.GET.copy()
    params.pop("page", None)
    return params.urlencode()


@require_GET
@page_requires("assets.add_asset")
def upload(request):
    return render(request, "assets/upload.html", {"max_upload_bytes": settings.MAX_UPLOAD_BYTES,
                                                  "too_large": str(UploadTooLarge(settings.MAX_UPLOAD_BYTES))})


def _page_language() -> str:
    """The language descriptions are shown in: the page's (English unless a locale says Chinese)."""
    return description_language(translation.get_language())


@require_GET
def detail(request, pk: int):
    return _detail_page(request, _get_asset_for_user(request, pk))


def _detail_page(request, asset: Asset, *, metadata_form: AssetMetadataForm | None = None, status: int = 200):
    """The asset page; for editors, with the metadata form (as typed, when it was refused)."""
    shots = asset_shots(asset=asset)
    lang = _page_language()
    if user_can(user=request.user, permission="assets.change_asset"):
        metadata_form = metadata_form or AssetMetadataForm.for_asset(asset)
    return render(request, "assets/detail.html", {
        "asset": asset,
        "shots": shots,
        "lang": lang,
        "languages": sorted(LANGUAGES, key=lambda code: code != lang),  # the page's first
        "still_alt": (shots[0].description(lang) if asset.kind == Asset.Kind.IMAGE and shots else "") or asset.title,
        "frames": selectors.asset_frames(asset=asset),
        "tag_rows": _timeline_rows(asset),
        "face_rows": _face_rows(asset),
        "copies": asset_copies(asset=asset, user=request.user),
        "footage_from": footage_sources(asset_ids=[asset.pk], user=request.user).get(asset.pk, []),
        "metadata_form": metadata_form,
        "history": Paginator(selectors.asset_history(asset=asset), HISTORY_PAGE_SIZE).get_page(
            request.GET.get("history")),
        "moment": _moment_from_address(request, asset),
    }, status=status)


def _moment_from_address(request, asset: Asset) -> dict[str, float] | None:
    """The moment a link asks the player to play (?t=START&end=END, as search results link to it);
    None when there is none, or it isn't a range inside the video."""
    try:
        start, end = float(request.GET["t"]), float(request.GET["end"])
    except (KeyError, ValueError):
        return None
    inside = asset.duration is None or end <= asset.duration + 1e-3
    if asset.kind != Asset.Kind.VIDEO or not (0 <= start < end and inside):
        return None
    return {"start": start, "end": end}


def _timeline_rows(asset: Asset) -> list[dict]:
    """One row per tag label, its ranges placed as percentages of the asset's duration."""
    length = asset.duration or 0
    rows: dict[int, dict] = {}
    for tag in asset.tags.select_related("label"):
        row = rows.setdefault(tag.label_id, {"label": tag.label, "segments": []})
        left = 100 * tag.start / length if length else 0
        width = max(100 * (tag.end - tag.start) / length, 0.8) if length else 100
        row["segments"].append({"tag": tag, "left": round(left, 3), "width": round(min(width, 100 - left), 3)})
    return sorted(rows.values(), key=lambda row: row["segments"][0]["tag"].start)


def _face_rows(asset: Asset) -> list[dict]:
    """One row per person seen in the asset (named first, then unnamed, then faces not grouped
    into anyone), their face tracks placed as percentages of the asset's duration."""
    length = asset.duration or 0
    rows: dict[int | None, dict] = {}
    for track in search_tracks_on_screen(asset_ids=[asset.pk]):
        row = rows.setdefault(track.person_id, {"person_id": track.person_id, "segments": [],
                                                "named": bool(track.person_name),
                                                "name": _person_label(track.person_id, track.person_name)})
        left = 100 * track.start / length if length else 0
        width = max(100 * (track.end - track.start) / length, 0.8) if length else 100
        row["segments"].append({"start": track.start, "end": track.end, "left": round(left, 3),
                                "width": round(min(width, 100 - left), 3)})
    return sorted(rows.values(), key=lambda row: (row["person_id"] is None, not row["named"], row["name"].lower(),
                                                  row["segments"][0]["start"]))


def _person_label(person_id: int | None, name: str) -> str:
    """As the People page names them: unnamed people by number, so two of them can be told apart."""
    if person_id is None:
        return _("Not grouped yet")
    return name or _("Unnamed person %(number)s") % {"number": person_id}


@require_POST
@page_requires("assets.change_asset")
def edit(request, pk: int):
    """Every metadata field at once; nothing is saved when any value is refused."""
    asset = _get_asset_for_user(request, pk)
    form = AssetMetadataForm(request.POST)
    changes = form.changes()
    if changes is None:
        messages.error(request, _("Nothing was saved. %(errors)s") % {"errors": form.error_summary()})
        return _detail_page(request, asset, metadata_form=form, status=400)
    before = {field: getattr(asset, field) for field in changes}
    services.asset_update(asset=asset, user=request.user, via=AssetChange.Via.PAGE, **changes)
    changed = [field for field in changes if getattr(asset, field) != before[field]]
    if changed:
        messages.success(request, _("Saved: %(fields)s.") % {"fields": field_labels(changed)})
    else:
        messages.info(request, _("Nothing changed: the values are the ones already saved."))
    return redirect(asset.get_absolute_url())


@require_POST
@page_requires("assets.change_asset")
def bulk_edit(request):
    """The same source, credit, rights or embargo on the assets ticked in the library; only the fields filled in
    are set. The library's filters and page come along in the query string."""
    form = BulkMetadataForm(request.POST)
    selected = _selected_asset_ids(request.POST)
    changes = form.changes()
    if changes is None or not selected:
        messages.error(request, _("Nothing was changed. %(errors)s") % {
            "errors": form.error_summary() if changes is None else _("Select the assets to change first.")})
        return _library_page(request, bulk_form=form, selected=selected, status=400)
    updated = services.assets_bulk_update(asset_ids=selected, user=request.user, **changes)
    messages.success(request, ngettext("%(count)d asset updated: %(fields)s.", "%(count)d assets updated: %(fields)s.",
                                       len(updated)) % {"count": len(updated), "fields": field_labels(changes)})
    query = request.GET.urlencode()
    return redirect(reverse("assets:library") + (f"?{query}" if query else ""))


def _selected_asset_ids(post) -> frozenset[int]:
    """The ticked assets, or every asset of the page shown when "select all" was ticked."""
    raw = post.getlist("page_asset") if post.get("all") else post.getlist("asset")
    return frozenset(int(value) for value in raw if value.isdigit())


@require_http_methods(["GET", "POST"])
@page_requires("assets.change_rightspolicy")
def rights_policy(request):
    """Admins decide whether viewers see embargoed and do-not-use footage at all."""
    policy = selectors.rights_policy_get()
    form = RightsPolicyForm(request.POST or None, initial={"viewers_see_embargoed": policy.viewers_see_embargoed,
                                                           "viewers_see_do_not_use": policy.viewers_see_do_not_use})
    if request.method == "POST" and form.is_valid():
        services.rights_policy_update(user=request.user, **form.cleaned_data)
        messages.success(request, _("The rights policy is saved; it applies from the next page a viewer opens."))
        return redirect("assets:rights-policy")
    return render(request, "assets/rights_policy.html", {"form": form, "policy": policy})


@require_POST
@page_requires("assets.change_asset")
def reprocess(request, pk: int):
    asset = _get_asset_for_user(request, pk)
    services.asset_reprocess(asset=asset)
    messages.success(request, _("“{title}” is queued for processing again.").format(title=asset.title))
    return redirect(asset.get_absolute_url())


@require_POST
@page_requires("assets.delete_asset")
def delete(request, pk: int):
    asset = _get_asset_for_user(request, pk)
    title = asset.title
    services.asset_delete(asset=asset)
    messages.success(request, _("“{title}” was deleted.").format(title=title))
    return redirect("assets:library")


@require_GET
def media(request, pk: int):
    """What a browser can play (the proxy when the original needs one; `?original=1` for the original),
    with HTTP Range support so players can seek."""
    asset = _get_asset_for_user(request, pk)
    if asset.proxy and not request.GET.get("original"):
        return ranged_file_response(request, asset.proxy, "video/mp4",
                                    download_name=f"{Path(asset.original_filename).stem or 'video'}.mp4")
    content_type = asset.mime_type or mimetypes.guess_type(asset.original_filename)[0] or "application/octet-stream"
    return ranged_file_response(request, asset.original.name, content_type, download_name=asset.original_filename)


@require_GET
def thumbnail(request, pk: int):
    asset = _get_asset_for_user(request, pk)
    if asset.poster_index is None:
        raise Http404("This asset has no thumbnail yet.")
    return frame_image(request, pk, asset.poster_index)


@require_GET
def frame_image(request, pk: int, index: int):
    frame = selectors.asset_frame(asset_id=pk, index=index, user=request.user)
    if frame is None or not default_storage.exists(frame.image):
        raise Http404("There is no such frame.")
    return stored_jpeg_response(request, frame.image, download_name=f"{index:06d}.jpg")


def stored_jpeg_response(request, name: str, *, download_name: str) -> HttpResponse:
    """A small stored JPEG (a frame, a face crop): through the front server when there is one; the
    browser may keep it an hour. With object storage: a redirect to the object itself."""
    if not storage_is_local():
        return _object_store_redirect(name, "image/jpeg", download_name=download_name)
    if settings.SENDFILE_BACKEND:
        response = _front_server_response(request, name, "image/jpeg", download_name=download_name)
    else:
        response = FileResponse(default_storage.open(name, "rb"), content_type="image/jpeg")
    response["Cache-Control"] = "private, max-age=3600"
    return response


def _object_store_redirect(name: str, content_type: str, *, download_name: str) -> HttpResponse:
    """A 302 to a short-lived presigned URL of the object: the object store sends the bytes, byte ranges
    included, so no media passes through a web worker. The browser may reuse the redirect for less time
    than the URL lives."""
    response = HttpResponseRedirect(media_url(name, content_type=content_type, download_name=download_name))
    response["Cache-Control"] = f"private, max-age={PRESIGNED_SECONDS // 2}"
    return response


def _front_server_response(request, name: str, content_type: str, *, download_name: str) -> HttpResponse:
    """An empty answer telling the front server (nginx: X-Accel-Redirect) to send the file itself,
    Range requests included, so no web worker is held for the transfer (django-sendfile2)."""
    response = sendfile(request, default_storage.path(name), mimetype=content_type,
                        attachment_filename=Path(download_name).name, content_length=0)
    response["Content-Disposition"] = content_disposition_header(False, Path(download_name).name)
    return response


def ranged_file_response(request, name: str, content_type: str, *, download_name: str) -> HttpResponse:
    """Serve a stored file from the object store (a presigned redirect) with object storage, through the
    front server when one is configured (MEDIAHUB_SENDFILE); otherwise whole (200) or a byte range of it
    (206), as RFC 9110 describes, a range being at most settings.RANGE_CHUNK_BYTES long (the player asks
    again from where it ends)."""
    if not default_storage.exists(name):
        raise Http404("The file is missing from storage; reprocess the asset to make it again.")
    if not storage_is_local():
        return _object_store_redirect(name, content_type, download_name=download_name)
    if settings.SENDFILE_BACKEND:
        response = _front_server_response(request, name, content_type, download_name=download_name)
        response["Cache-Control"] = "private, max-age=3600"
        return response
    size = default_storage.size(name)
    byte_range = _parse_range(request.headers.get("Range", ""), size, limit=settings.RANGE_CHUNK_BYTES)
    handle = default_storage.open(name, "rb")
    if byte_range is None:
        response = FileResponse(handle, content_type=content_type)
    elif byte_range == "unsatisfiable":
        handle.close()
        response = HttpResponse(status=416, content_type=content_type)
        response["Content-Range"] = f"bytes */{size}"
    else:
        start, end = byte_range
        handle.seek(start)
        response = StreamingHttpResponse(_limited(handle, end - start + 1), status=206, content_type=content_type)
        response["Content-Length"] = str(end - start + 1)
        response["Content-Range"] = f"bytes {start}-{end}/{size}"
    response["Accept-Ranges"] = "bytes"
    response["Content-Disposition"] = content_disposition_header(False, Path(download_name).name)
    response["Cache-Control"] = "private, max-age=3600"
    return response


def _parse_range(header: str, size: int, *, limit: int):
    """(start, end) inclusive for a single satisfiable range, at most `limit` bytes long,
    "unsatisfiable", or None for the whole file."""
    match = _RANGE.match(header.strip())
    if not match or not (match.group(1) or match.group(2)):
        return None  # absent, multi-range or malformed: send the whole file
    first, last = match.groups()
    if first:
        start, end = int(first), min(int(last), size - 1) if last else size - 1
    else:
        start, end = max(size - int(last), 0), size - 1
    if start >= size or start > end:
        return "unsatisfiable"
    return start, min(end, start + limit - 1)


def _limited(handle, length: int, chunk: int = 1 << 16):
    try:
        while length > 0:
            data = handle.read(min(chunk, length))
            if not data:
                break
            length -= len(data)
            yield data
    finally:
        handle.close()
