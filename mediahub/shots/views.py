"""Pages for shots: the shot list as a download (text or CSV, English or Chinese), and an editor's
correction of a shot's description from the asset page."""

from django.contrib import messages
from django.http import Http404, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.utils.text import slugify
from django.views.decorators.http import require_GET, require_POST

from mediahub.assets import selectors as asset_selectors
from mediahub.assets.models import Asset
from mediahub.core.roles import page_requires
from mediahub.shots import selectors, services
from mediahub.shots.models import LANGUAGES, Shot

# Excel opens a CSV in the computer's legacy code page (Windows-1252, GBK...) unless it starts with
# a UTF-8 byte-order mark, and then shows Chinese as mojibake; LibreOffice, Numbers, Google Sheets
# and Python's "utf-8-sig" read the mark as what it is. The text list has none: it is pasted into
# scripts and wires, where a stray invisible character is a nuisance.
UTF8_BOM = "\ufeff"
SHOT_LISTS = {
    "txt": (selectors.shot_list_text, "text/plain; charset=utf-8", ""),
    "csv": (selectors.shot_list_csv, "text/csv; charset=utf-8", UTF8_BOM),
}
FILENAME_CHARS = 80


def _get_asset_for_user(request, pk: int) -> Asset:
    """The asset, readable by any signed-in user (the library is shared by the newsroom)."""
    asset = asset_selectors.asset_get(pk=pk, user=request.user)
    if asset is None:
        raise Http404("There is no such asset; it may have been deleted.")
    return asset


def _get_shot_for_user(request, pk: int, index: int) -> Shot:
    shot = selectors.shot_get(asset=_get_asset_for_user(request, pk), index=index)
    if shot is None:
        raise Http404("The asset has no such shot; it may have been cut anew by a reprocess.")
    return shot


def shot_list_filename(asset: Asset, *, lang: str, extension: str) -> str:
    """From the title, letters, digits (any script) and hyphens only: 'flood-at-the-bridge-shots-en.csv'."""
    stem = slugify(asset.title, allow_unicode=True)[:FILENAME_CHARS].strip("-_") or f"asset-{asset.pk}"
    return f"{stem}-shots-{lang}.{extension}"


@require_GET
@page_requires("assets.view_asset")
def shot_list(request, pk: int, extension: str):
    asset = _get_asset_for_user(request, pk)
    lang = request.GET.get("lang", "en")
    if lang not in LANGUAGES:
        return HttpResponseBadRequest(f"There is no shot list in {lang!r}; ask for ?lang=en (English) or "
                                      f"?lang=zh (Chinese).\n", content_type="text/plain; charset=utf-8")
    render, content_type, prefix = SHOT_LISTS[extension]
    response = HttpResponse((prefix + render(asset=asset, lang=lang)).encode("utf-8"), content_type=content_type)
    response["Content-Disposition"] = content_disposition_header(
        True, shot_list_filename(asset, lang=lang, extension=extension))
    return response


def _form_changes(shot: Shot, submitted: dict[str, str]) -> dict[str, str]:
    """What the correction form changed, per language. The form shows each description as users see
    it: a field left so is no correction, and one emptied or set back to the generated text drops
    the correction (services.shot_description_edit takes "" for that)."""
    changes = {}
    for lang, text in submitted.items():
        text = " ".join(text.split())
        if text == shot.description(lang):
            continue
        changes[lang] = "" if text == getattr(shot, f"description_{lang}") else text
    return changes


@require_POST
@page_requires("assets.change_asset")
def shot_edit(request, pk: int, index: int):
    shot = _get_shot_for_user(request, pk, index)
    submitted = {lang: request.POST[lang] for lang in LANGUAGES if lang in request.POST}
    changes = _form_changes(shot, submitted)
    number = shot.index + 1
    if request.POST.get("shot", str(shot.pk)) != str(shot.pk):  # the page was loaded before a reprocess
        messages.error(request, _("Shot {number} was not saved: the asset was cut into shots anew while you "
                                  "edited. Check the shots below and correct it again.").format(number=number))
    elif not submitted:
        messages.error(request, _("Nothing was saved: send the corrected description of shot {number} "
                                  "in English (en) or Chinese (zh).").format(number=number))
    elif not changes:
        messages.info(request, _("Shot {number}: nothing changed.").format(number=number))
    else:
        try:
            saved = services.shot_description_edit(shot=shot, user=request.user, texts=changes)
        except services.ShotEditRefused as exc:
            messages.error(request, _("Shot {number} was not saved. {reason}").format(number=number, reason=exc))
        else:
            messages.success(request, (_("Shot {number}: description saved.") if saved.edited else
                              _("Shot {number} shows its generated description again.")).format(number=number))
    return redirect(f"{reverse('assets:detail', args=[pk])}#shot-{shot.index}")
