"""A brief as the file an editing application imports: the board's choice per beat (the pick, else
the proposal) as timeline clips pointing at the originals (mediahub/briefs/timeline.py writes them)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.urls import reverse
from django.utils.http import content_disposition_header
from django.utils.text import slugify

from mediahub.assets.models import Asset
from mediahub.briefs import selectors
from mediahub.briefs.models import Brief
from mediahub.briefs.timeline import EXPORT_FORMATS, TimelineClip, timeline_export

__all__ = ["EXPORT_FORMATS", "Export", "brief_export", "frame_url", "timeline_clips"]


@dataclass(frozen=True)
class Export:
    content: bytes
    content_type: str
    content_disposition: str


def frame_url(asset: Asset, index: int) -> str:
    return reverse("assets:frame", args=[asset.pk, index])


def original_location(request, asset: Asset) -> str:
    """Where an edit suite finds the original: under MEDIAHUB_EDIT_MEDIA_ROOT (shared storage) when set,
    else its download URL."""
    if settings.EDIT_MEDIA_ROOT:
        return (Path(settings.EDIT_MEDIA_ROOT) / asset.original.name).as_uri()
    return request.build_absolute_uri(asset.original_url)


def timeline_clips(request, board: selectors.Board) -> list[TimelineClip]:
    clips = []
    for board_beat in board.beats:
        beat, choice = board_beat.beat, board_beat.choice
        if choice is None:
            clips.append(TimelineClip(beat_index=beat.index, beat_text=beat.text, asset_id=None))
            continue
        asset = choice.asset
        clips.append(TimelineClip(
            beat_index=beat.index, beat_text=beat.text, asset_id=asset.pk, title=asset.title,
            file_name=asset.original_filename, target_url=original_location(request, asset), kind=asset.kind,
            fps=asset.fps if asset.kind == Asset.Kind.VIDEO else None, start=choice.start, end=choice.end,
            asset_duration=asset.duration if asset.kind == Asset.Kind.VIDEO else None,
            picked=board_beat.pick is not None, weak=board_beat.weak and board_beat.pick is None,
            usage_warning=asset.usage_warning()))
    return clips


def brief_export(*, request, brief: Brief, fmt: str) -> Export:
    """The brief's file in `fmt`; ValueError with a sentence when the brief can't be written in it."""
    board = selectors.brief_board(brief=brief, user=request.user)
    name = brief.title or f"Brief {brief.pk}"
    export_format = EXPORT_FORMATS[fmt]
    content = timeline_export(name=name, clips=timeline_clips(request, board), fmt=fmt)
    filename = f"{slugify(name, allow_unicode=True) or f'brief-{brief.pk}'}.{export_format.extension}"
    return Export(content=content, content_type=export_format.content_type,
                  content_disposition=content_disposition_header(True, filename))
