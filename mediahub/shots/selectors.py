"""Reads of shots: an asset's shots, one shot, and the shot list as text or CSV."""

from __future__ import annotations

import csv
import io

from mediahub.assets.models import Asset
from mediahub.shots.models import LANGUAGES, Shot


def asset_shots(*, asset: Asset) -> list[Shot]:
    return list(Shot.objects.filter(asset=asset).order_by("index"))


def shot_get(*, asset: Asset, index: int) -> Shot | None:
    return Shot.objects.filter(asset=asset, index=index).first()


def timecode(seconds: float, *, hours: bool = False) -> str:
    """Agency shot-list style: MM:SS, or HH:MM:SS when the asset runs an hour or more."""
    total = int(max(seconds, 0.0) + 0.5)  # nearest second: one shot ends where the next starts
    hh, rest = divmod(total, 3600)
    mm, ss = divmod(rest, 60)
    return f"{hh:02d}:{mm:02d}:{ss:02d}" if hours else f"{mm:02d}:{ss:02d}"


def shot_list_rows(*, asset: Asset, lang: str) -> list[tuple[int, str, str, str]]:
    """(number, start timecode, end timecode, description) per shot, numbered from 1."""
    if lang not in LANGUAGES:
        raise ValueError(f"lang must be one of {', '.join(LANGUAGES)}")
    hours = (asset.duration or 0) >= 3600
    return [(shot.index + 1, timecode(shot.start, hours=hours), timecode(shot.end, hours=hours),
             shot.description(lang)) for shot in asset_shots(asset=asset)]


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
