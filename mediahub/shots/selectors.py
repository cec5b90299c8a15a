"""Reads of shots: an asset's shots, one shot, images' descriptions (their alt text), and the shot
list as text or CSV."""

from __future__ import annotations

import io
from collections.abc import Iterable

# Editors type descriptions, and a spreadsheet runs a cell that starts with = + - @ as a formula
# (CSV injection); defusedcsv is the csv module with such cells quoted as text.
from defusedcsv import csv

from django.db.models import Case, OuterRef, QuerySet, Subquery, TextField, Value, When
from django.db.models.functions import Coalesce, NullIf

from mediahub.assets.models import Asset
from mediahub.shots.models import LANGUAGES, Shot


def asset_shots(*, asset: Asset) -> list[Shot]:
    return list(Shot.objects.filter(asset=asset).select_related("edited_by").order_by("index"))


def shot_get(*, asset: Asset, index: int) -> Shot | None:
    return Shot.objects.filter(asset=asset, index=index).first()


def description_language(code: str | None) -> str:
    """The description language for a page or request in language `code` ("zh-hans", "en-us"):
    Chinese for any Chinese, else English."""
    return "zh" if (code or "").lower().startswith("zh") else "en"


def image_descriptions(*, asset_ids: Iterable[int], lang: str) -> dict[int, str]:
    """The description (its one shot's, edited or generated) of each image among `asset_ids`, by
    asset id, in one query: the alt text of the image wherever it is drawn. Images not described
    yet are left out."""
    shots = Shot.objects.filter(asset_id__in=list(asset_ids), asset__kind=Asset.Kind.IMAGE, index=0).only(
        "asset_id", f"description_{lang}", f"edited_{lang}")
    return {shot.asset_id: text for shot in shots if (text := shot.description(lang))}


def assets_with_alt_text(assets: QuerySet[Asset], *, lang: str) -> QuerySet[Asset]:
    """`assets`, each with `alt_text`: an image's description in `lang` (as `image_descriptions`),
    "" for a video or an image not described yet. Read in the assets' own query (a library page
    costs no query more)."""
    shown = Coalesce(NullIf(f"edited_{lang}", Value("")), f"description_{lang}", output_field=TextField())
    text = Shot.objects.filter(asset=OuterRef("pk"), index=0).annotate(text=shown).values("text")[:1]
    described = Coalesce(Subquery(text), Value(""), output_field=TextField())
    return assets.annotate(alt_text=Case(When(kind=Asset.Kind.IMAGE, then=described), default=Value(""),
                                         output_field=TextField()))


def _seconds(seconds: float) -> int:
    return int(max(seconds, 0.0) + 0.5)  # nearest second: one shot ends where the next starts


def timecode(seconds: float, *, hours: bool = False) -> str:
    """Agency shot-list style: MM:SS, or HH:MM:SS when the asset runs an hour or more."""
    total = _seconds(seconds)
    hh, rest = divmod(total, 3600)
    mm, ss = divmod(rest, 60)
    return f"{hh:02d}:{mm:02d}:{ss:02d}" if hours else f"{mm:02d}:{ss:02d}"


def shot_list_rows(*, asset: Asset, lang: str) -> list[tuple[int, str, str, str]]:
    """(number, start timecode, end timecode, description) per shot, numbered from 1."""
    if lang not in LANGUAGES:
        raise ValueError(f"lang must be one of {', '.join(LANGUAGES)}")
    shots = asset_shots(asset=asset)
    # By the rounded last end, not the duration: 3599.6 s must not end "60:00".
    hours = _seconds(max([asset.duration or 0.0] + [shot.end for shot in shots])) >= 3600
    return [(shot.index + 1, timecode(shot.start, hours=hours), timecode(shot.end, hours=hours),
             shot.description(lang)) for shot in shots]


def shot_list_text(*, asset: Asset, lang: str) -> str:
    """'1. 00:00–00:04 A red circle on a blue background' per line, under the asset's title."""
    lines = [asset.title, ""] + [f"{number}. {start}–{end} {text}".rstrip()
                                 for number, start, end, text in shot_list_rows(asset=asset, lang=lang)]
    return "\n".join(lines) + "\n"


def shot_list_csv(*, asset: Asset, lang: str) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["shot", "start", "end", "description"])
    writer.writerows(shot_list_rows(asset=asset, lang=lang))
    return buffer.getvalue()
