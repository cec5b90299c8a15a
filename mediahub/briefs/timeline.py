"""A brief's picks as a timeline an editing application opens: CMX 3600 EDL, Final Cut Pro 7 XML
(what Premiere Pro and DaVinci Resolve import), OpenTimelineIO's own JSON, and a CSV for people.

No Django here: the caller turns a brief into `TimelineClip`s (one per beat, in beat order) and gets
the file's bytes back. The timeline is built once with OpenTimelineIO (`timeline_build`); the EDL and
the FCP7 XML are written from adjusted copies of it, because their adapters have traps that would
otherwise lose or move what an editor needs (each adjustment below says which).

Time: one video track. Each clip's source range is the moment in its asset at the asset's own rate,
right to the frame; the record side (the sequence) runs at the sequence rate: the most common rate
among the brief's video clips that timecode can carry, 25 when there is none.
"""

from __future__ import annotations

import copy
import io
import math
import os
import unicodedata
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple
from urllib.parse import unquote, urlparse
from urllib.request import url2pathname

import opentimelineio as otio
# Beat texts, titles and file names are typed by people, and a spreadsheet runs a cell that starts
# with = + - @ as a formula (CSV injection); defusedcsv is the csv module with such cells quoted.
from defusedcsv import csv
from opentimelineio.opentime import RationalTime, TimeRange

STILL_SECONDS = 5.0  # how long a still image, or a beat that found no footage, holds the screen
NO_VIDEO_RATE = 25.0  # the sequence rate of a brief without video (European broadcast)
METADATA_KEY = "mediahub"
# Rates an asset reports are floats (PyAV's 30000/1001 -> 29.97002997...); a rate this close (relative)
# to a broadcast rate is that rate exactly, so FCP7 writes timebase 30 + ntsc TRUE and timecode works.
RATE_TOLERANCE = 2e-4  # far below the 1/1001 between 29.97 and 30
BROADCAST_RATES = (24000 / 1001, 24.0, 25.0, 30000 / 1001, 30.0, 48000 / 1001, 48.0, 50.0, 60000 / 1001, 60.0)
UTF8_BOM = "\ufeff"  # Excel reads a CSV as UTF-8 (Chinese intact) only when it starts with this mark
MAX_DECIMAL_REEL = 10**7 - 1  # "A" + 7 digits: the most a CMX 3600 reel name (8 characters) holds

CSV_HEADER = ["beat", "beat text", "asset id", "title", "file name", "source in", "source out",
              "duration (s)", "status", "weak", "url", "usage"]


@dataclass(frozen=True)
class TimelineClip:
    beat_index: int            # 0-based beat position
    beat_text: str             # the beat's text (any language, may be long, may hold quotes)
    asset_id: int | None       # None: the beat found no footage at all (a gap of STILL_SECONDS)
    title: str = ""
    file_name: str = ""        # the original upload's file name, what an editor relinks by
    target_url: str = ""       # where the original is: a file:// URL on shared storage, or an http(s) URL
    kind: str = "video"        # "video" | "image"
    fps: float | None = None   # the asset's frame rate (None for images)
    start: float = 0.0         # seconds from the asset's first frame
    end: float = 0.0           # seconds; an image has start == end == 0
    picked: bool = False       # the editor picked it (else it is the board's proposal)
    weak: bool = False         # no result cleared the relevance floor
    # Added to the brief's interface: the asset's length in seconds, so the media reference (and FCP7's
    # <file><duration>) tells the truth about the file; None: the file is taken to end with the moment.
    asset_duration: float | None = None
    # What an editor must know before using the footage (embargo, do not use, restricted), or None: in
    # every format, next to the beat text (marker comment, EDL comment, FCP7 clip comment, CSV "usage").
    usage_warning: str | None = None


class ExportFormat(NamedTuple):
    extension: str
    content_type: str


EXPORT_FORMATS: dict[str, ExportFormat] = {
    "edl": ExportFormat("edl", "text/plain; charset=utf-8"),
    # FCP7 XML is ".xml": ".fcpxml" is Final Cut Pro X's different format, and Premiere refuses it.
    "fcpxml": ExportFormat("xml", "application/xml; charset=utf-8"),
    "otio": ExportFormat("otio", "application/json"),
    "csv": ExportFormat("csv", "text/csv; charset=utf-8"),
}


# --- the timeline -------------------------------------------------------------------------------

def timeline_build(*, name: str, clips: Sequence[TimelineClip]) -> otio.schema.Timeline:
    """One video track, one item per beat in beat order: the moment's clip, a still held for
    STILL_SECONDS, or a gap of STILL_SECONDS where the beat found no footage. Every item carries the
    beat text as a marker over its whole length, in the item's own (source) time."""
    clips = sorted(clips, key=lambda clip: clip.beat_index)
    for clip in clips:
        _check(clip)
    sequence_rate = _sequence_rate(clips)
    track = otio.schema.Track(name="Beats", kind=otio.schema.TrackKind.Video)
    for clip in clips:
        track.append(_item(clip, sequence_rate))
    timeline = otio.schema.Timeline(name=_clean(name) or "Brief",
                                    global_start_time=RationalTime(0, sequence_rate))
    timeline.tracks.append(track)
    return timeline


def timeline_export(*, name: str, clips: Sequence[TimelineClip], fmt: str) -> bytes:
    if fmt not in EXPORT_FORMATS:
        raise ValueError(f"There is no export format {fmt!r}; ask for one of {', '.join(EXPORT_FORMATS)}.")
    if not clips:
        raise ValueError("The brief has no beats, so there is nothing to export; add a line of text first.")
    if fmt == "csv":
        return (UTF8_BOM + _csv(clips)).encode("utf-8")
    timeline = timeline_build(name=name, clips=clips)
    if fmt == "edl":
        return _edl(timeline).encode("utf-8")
    if fmt == "fcpxml":
        return otio.adapters.write_to_string(_for_fcp7(timeline), adapter_name="fcp_xml").encode("utf-8")
    return otio.adapters.write_to_string(timeline, adapter_name="otio_json").encode("utf-8")


def edit_rate(fps: float) -> float:
    """`fps` snapped to the broadcast rate it stands for (29.97 -> 30000/1001), else as it is."""
    for rate in BROADCAST_RATES:
        if abs(fps - rate) <= RATE_TOLERANCE * rate:
            return rate
    return float(fps)


def has_timecode(rate: float) -> bool:
    """SMPTE timecode, which the EDL and FCP7 XML are written in, exists only for the broadcast
    rates; a 15 or 120 fps clip is placed there at the sequence rate instead."""
    return otio.opentime.RationalTime.is_valid_timecode_rate(rate)


def reel_name(asset_id: int) -> str:
    """The asset's CMX 3600 reel: 8 characters at most, the same for every use of one asset and
    different between assets ("A000123"; beyond 7 digits base 36 after a "Z", which no decimal
    reel starts with)."""
    if asset_id <= MAX_DECIMAL_REEL:
        return f"A{asset_id:06d}"
    return "Z" + _base36(asset_id)


def _check(clip: TimelineClip) -> None:
    beat = f"Beat {clip.beat_index + 1}"
    if clip.asset_id is None:
        return
    if clip.kind not in ("video", "image"):
        raise ValueError(f"{beat}: an asset is a video or an image, not {clip.kind!r}.")
    if not clip.target_url:
        raise ValueError(f"{beat}: asset {clip.asset_id} has no URL for the editor to relink.")
    if clip.kind == "video":
        if not clip.fps or clip.fps <= 0 or not math.isfinite(clip.fps):
            raise ValueError(f"{beat}: video asset {clip.asset_id} has no frame rate (is it processed?).")
        if not (0 <= clip.start <= clip.end) or not math.isfinite(clip.end):
            raise ValueError(f"{beat}: the moment {clip.start}-{clip.end} s is not a range of asset "
                             f"{clip.asset_id}; it must start at 0 s or later and end after it starts.")


def _sequence_rate(clips: Sequence[TimelineClip]) -> float:
    """The record side's rate: every position and length in the sequence (and the EDL's, and a still's
    or a gap's) is counted in its frames."""
    rates = Counter(rate for clip in clips if clip.asset_id is not None and clip.kind == "video"
                    if has_timecode(rate := edit_rate(clip.fps)))
    return rates.most_common(1)[0][0] if rates else NO_VIDEO_RATE


def _frames(clip: TimelineClip, rate: float) -> tuple[int, int]:
    """The moment's first frame and its length in frames at `rate` (at least one frame)."""
    first = round(clip.start * rate)
    return first, max(round(clip.end * rate) - first, 1)


def _item(clip: TimelineClip, sequence_rate: float) -> otio.core.Item:
    text = _clean(clip.beat_text)
    info = {"beat_index": clip.beat_index, "beat_text": text}
    still = RationalTime(round(STILL_SECONDS * sequence_rate), sequence_rate)
    if clip.asset_id is None:
        gap = otio.schema.Gap(source_range=TimeRange(RationalTime(0, sequence_rate), still),
                              metadata={METADATA_KEY: info})
        gap.markers.append(_marker(clip, gap.source_range))
        return gap
    info |= {"asset_id": clip.asset_id, "title": _clean(clip.title), "kind": clip.kind,
             "picked": clip.picked, "weak": clip.weak, "usage_warning": _clean(clip.usage_warning) or None}
    if clip.kind == "image":
        rate = sequence_rate
        source = available = TimeRange(RationalTime(0, rate), still)
    else:
        rate = edit_rate(clip.fps)
        first, length = _frames(clip, rate)
        source = TimeRange(RationalTime(first, rate), RationalTime(length, rate))
        known = clip.asset_duration if clip.asset_duration and math.isfinite(clip.asset_duration) else 0.0
        media_frames = max(round(known * rate), first + length)
        available = TimeRange(RationalTime(0, rate), RationalTime(media_frames, rate))
    file_name = _clean(clip.file_name) or _url_basename(clip.target_url)
    reference = otio.schema.ExternalReference(target_url=clip.target_url, available_range=available)
    reference.name = file_name
    item = otio.schema.Clip(name=file_name, media_reference=reference, source_range=source,
                            metadata={METADATA_KEY: info})
    item.markers.append(_marker(clip, source))
    return item


def _marker(clip: TimelineClip, marked: TimeRange) -> otio.schema.Marker:
    """The beat text as the marker's name; its colour and comment say what the board made of the beat
    (colours Avid's locators know too: green picked, yellow proposed, red a weak match or none)."""
    if clip.asset_id is None:
        color, state = otio.schema.MarkerColor.RED, "no footage found"
    elif clip.picked:
        color, state = otio.schema.MarkerColor.GREEN, "picked"
    elif clip.weak:
        color, state = otio.schema.MarkerColor.RED, "proposed, a weak match"
    else:
        color, state = otio.schema.MarkerColor.YELLOW, "proposed"
    comment = f"Beat {clip.beat_index + 1}: {state}" + (f", asset {clip.asset_id}" if clip.asset_id is not None else "")
    if clip.usage_warning:
        comment += f". USAGE: {_clean(clip.usage_warning)}"
    # FCP7's <marker><comment> (which Premiere shows) comes from the adapter's metadata namespace.
    return otio.schema.Marker(name=_clean(clip.beat_text), marked_range=marked, color=color, comment=comment,
                              metadata={"fcp_xml": {"comment": comment}})


# --- FCP7 XML -----------------------------------------------------------------------------------

def _for_fcp7(timeline: otio.schema.Timeline) -> otio.schema.Timeline:
    """A copy the FCP7 adapter writes right:
    - the adapter skips gaps and their markers (a last gap vanishes): a beat without footage becomes
      a Slug, Premiere's own placeholder clip (<file><mediaSource>Slug), carrying its marker;
    - a clip at a rate timecode can't carry (15, 120 fps) crashes the adapter's <timecode>: it is
      placed at the sequence rate;
    - a clip at another broadcast rate keeps its rate and first frame, and lasts a whole number of
      sequence frames (the reader, like Premiere, takes the length from <start>/<end>);
    - the beat text also goes in the clip's <comments>; a still is flagged <stillframe> and its file
      gets no audio."""
    fcp7 = copy.deepcopy(timeline)
    track = fcp7.tracks[0]
    sequence_rate = fcp7.global_start_time.rate
    for index, item in enumerate(list(track)):
        text = item.metadata[METADATA_KEY]["beat_text"]
        if isinstance(item, otio.schema.Gap):
            slug = otio.schema.GeneratorReference(
                name="Slug", generator_kind="Slug", available_range=item.source_range,
                metadata={"fcp_xml": {"media": {"video": None}}})
            item = otio.schema.Clip(name="Slug", media_reference=slug, source_range=item.source_range,
                                    markers=[copy.deepcopy(marker) for marker in item.markers],
                                    metadata=copy.deepcopy(item.metadata))
            track[index] = item
        elif item.metadata[METADATA_KEY]["kind"] == "image":
            item.metadata["fcp_xml"] = {"stillframe": "TRUE"}
            item.media_reference.metadata["fcp_xml"] = {"media": {"video": {"stillframe": "TRUE"}}}
        else:
            _fit_to_sequence(item, sequence_rate, keep_rate=has_timecode(item.source_range.start_time.rate))
        comments = {"mastercomment1": text}
        if item.metadata[METADATA_KEY].get("usage_warning"):
            comments["mastercomment2"] = f"USAGE: {item.metadata[METADATA_KEY]['usage_warning']}"
        item.metadata.setdefault("fcp_xml", {})["comments"] = comments
    return fcp7


def _fit_to_sequence(clip: otio.schema.Clip, sequence_rate: float, *, keep_rate: bool) -> None:
    """Give the clip a whole number of sequence frames (and, unless `keep_rate`, move it and its
    media to the sequence rate); its marker follows its source range."""
    rate = clip.source_range.start_time.rate
    if rate == sequence_rate:
        return
    if keep_rate:
        length = max(round(clip.source_range.duration.value_rescaled_to(sequence_rate)), 1)
        clip.source_range = TimeRange(clip.source_range.start_time,
                                      RationalTime(length, sequence_rate).rescaled_to(rate))
    else:
        first = round(clip.source_range.start_time.value_rescaled_to(sequence_rate))
        last = round(clip.source_range.end_time_exclusive().value_rescaled_to(sequence_rate))
        clip.source_range = TimeRange(RationalTime(first, sequence_rate),
                                      RationalTime(max(last - first, 1), sequence_rate))
        available = clip.media_reference.available_range
        clip.media_reference.available_range = TimeRange(
            RationalTime(0, sequence_rate),
            RationalTime(math.ceil(available.duration.value_rescaled_to(sequence_rate)), sequence_rate))
    for marker in clip.markers:
        marker.marked_range = clip.source_range


# --- CMX 3600 EDL -------------------------------------------------------------------------------

def _edl(timeline: otio.schema.Timeline) -> str:
    """The EDL, written by the cmx_3600 adapter from a copy that avoids its traps:
    - one rate for everything (an EDL declares none): every event is in whole sequence frames, so
      source and record lengths agree (the reader rejects an EDL where they don't);
    - NTSC rates are written as non-drop-frame timecode at the nominal rate (30 for 29.97), with
      "FCM: NON-DROP FRAME": the adapter would write drop-frame labels without saying so, and its
      reader skips a "* LOC" whose timecode has a ";";
    - reels are the asset's `reel_name` (the adapter would cut the file name to 8 characters, and
      two files starting alike would share a reel);
    - no "* FROM CLIP:" / "* FROM FILE:" line (Premiere then names every clip UNKNOWN and can't
      relink, OpenTimelineIO issue 1178): the media reference is left out, the file name goes in
      "* FROM CLIP NAME:" and the path in "* SOURCE FILE:". Style "avid" rather than "premiere",
      which would also do this but writes every reel as AX;
    - a locator's timecode is record time in Avid's EDLs (the adapter writes the marker's own
      time, OpenTimelineIO issues 169/345): each marker is moved to its event's record in;
    - the adapter upper-cases the locator's text: the beat text also goes in a "* BEAT n:" comment,
      as typed;
    - a beat without footage is a BL (black) event, which keeps its place even first or last (the
      adapter writes nothing for a gap)."""
    edl = copy.deepcopy(timeline)
    sequence_rate = edl.global_start_time.rate
    nominal = float(math.ceil(sequence_rate))  # 30 for 29.97: frames counted as non-drop timecode
    track = edl.tracks[0]
    record = 0
    for index, item in enumerate(list(track)):
        info = item.metadata[METADATA_KEY]
        if isinstance(item, otio.schema.Gap):
            event = otio.schema.Clip(name="", media_reference=otio.schema.GeneratorReference(generator_kind="black"),
                                     metadata={"cmx_3600": {"reel": "BL"}})
            frames = round(item.source_range.duration.value_rescaled_to(sequence_rate))
            first = 0
            path = ""
        else:
            _fit_to_sequence(item, sequence_rate, keep_rate=False)
            frames = round(item.source_range.duration.value)
            first = round(item.source_range.start_time.value)
            event = otio.schema.Clip(name=item.name, media_reference=otio.schema.MissingReference(),
                                     metadata={"cmx_3600": {"reel": reel_name(info["asset_id"])}})
            path = _local_path(item.media_reference.target_url)
        event.source_range = TimeRange(RationalTime(first, nominal), RationalTime(frames, nominal))
        event.markers.append(otio.schema.Marker(
            name=info["beat_text"], color=item.markers[0].color,
            marked_range=TimeRange(RationalTime(record, nominal), RationalTime(0, nominal))))
        comments = [f"BEAT {info['beat_index'] + 1}: {info['beat_text']}"]
        if info.get("usage_warning"):
            comments.append(f"USAGE: {info['usage_warning']}")
        if path:
            comments.append(f"SOURCE FILE: {path}")
        event.metadata["cmx_3600"]["comments"] = comments
        track[index] = event
        record += frames
    text = otio.adapters.write_to_string(edl, adapter_name="cmx_3600", rate=nominal, style="avid")
    title, blank, events = text.partition("\n\n")
    return f"{title}\nFCM: NON-DROP FRAME{blank}{events}"


def _local_path(url: str) -> str:
    """What an editor's machine opens: the path of a file:// URL, else the URL itself."""
    parsed = urlparse(url)
    return url2pathname(parsed.path) if parsed.scheme == "file" else url


# --- CSV ----------------------------------------------------------------------------------------

def _csv(clips: Sequence[TimelineClip]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_HEADER)
    for clip in sorted(clips, key=lambda clip: clip.beat_index):
        _check(clip)
        number, text = clip.beat_index + 1, _clean(clip.beat_text)
        if clip.asset_id is None:
            writer.writerow([number, text, "", "", "", "", "", "", "no footage", "", "", ""])
            continue
        if clip.kind == "image":
            source_in = source_out = ""
            seconds = STILL_SECONDS
        else:
            rate = edit_rate(clip.fps)
            first, length = _frames(clip, rate)
            source_in, source_out = _timecode(first, rate), _timecode(first + length, rate)
            seconds = length / rate
        writer.writerow([number, text, clip.asset_id, _clean(clip.title),
                         _clean(clip.file_name) or _url_basename(clip.target_url), source_in, source_out,
                         f"{seconds:.3f}", "picked" if clip.picked else "proposed",
                         "yes" if clip.weak else "no", clip.target_url, _clean(clip.usage_warning)])
    return buffer.getvalue()


def _timecode(frame: int, rate: float) -> str:
    """HH:MM:SS:FF, non-drop-frame: frames counted at the nominal rate (30 for 29.97, 15 for 15), as
    an editor's timecode display of a file without embedded timecode counts them."""
    nominal = math.ceil(rate - 1e-9)
    seconds, frames = divmod(frame, nominal)
    minutes, seconds = divmod(seconds, 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours:02d}:{minutes:02d}:{seconds:02d}:{frames:02d}"


# --- text ---------------------------------------------------------------------------------------

def _clean(text: str) -> str:
    """One line of printable text: every run of whitespace (line and paragraph separators too, which
    the EDL reader's splitlines() breaks on) becomes one space, and control characters (which XML
    can't hold) and lone surrogates (which UTF-8 can't) are dropped."""
    text = " ".join((text or "").split())
    return "".join(char for char in text if unicodedata.category(char) not in ("Cc", "Cs"))


def _url_basename(url: str) -> str:
    return unquote(os.path.basename(urlparse(url).path))


def _base36(number: int) -> str:
    digits = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    out = ""
    while number:
        number, digit = divmod(number, 36)
        out = digits[digit] + out
    return out or "0"
