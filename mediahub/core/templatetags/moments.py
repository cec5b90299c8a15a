"""Moments and times as a person reads them, the same on every page: 0:05, 1:12, 1:02:03 (whole
seconds counted as a video player counts them).

Whole seconds, except in a range shorter than a second, which whole seconds would show as one instant
or as two different moments alike (5.2–5.6 s and 5.4–6.3 s both "0:05–0:06"): both its ends get tenths
("0:05.2–0:05.6"). app.js never formats a time; pages hand it these strings."""

import math
from urllib.parse import urlencode

from django import template
from django.utils.translation import gettext

register = template.Library()


def _seconds(value) -> float | None:
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        return None
    return seconds if math.isfinite(seconds) and seconds >= 0 else None


def _clock(seconds: float, *, tenths: bool = False) -> str:
    # Cut down to the unit shown, as the browsers' own player controls count: 59.96 reads 0:59 there and
    # here, and a moment that stops on its last frame shows the time its card says.
    scale = 10 if tenths else 1
    units = math.floor(seconds * scale + 1e-6)
    whole, fraction = divmod(units, scale)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    text = f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"
    return f"{text}.{fraction}" if tenths else text


@register.filter
def clock(seconds) -> str:
    """One time: 0:04, 1:12, 1:02:03; "" for no time."""
    seconds = _seconds(seconds)
    return "" if seconds is None else _clock(seconds)


@register.simple_tag
def time_range(start, end) -> str:
    """A stretch of footage: 0:05–0:10; one time for an instant; tenths if it lasts under a second."""
    start, end = _seconds(start), _seconds(end)
    if start is None or end is None:
        return ""
    if end <= start:
        return _clock(start)
    tenths = end - start < 1
    return f"{_clock(start, tenths=tenths)}–{_clock(end, tenths=tenths)}"


@register.simple_tag
def moment_time(start, end, kind: str = "video") -> str:
    """When a moment is in its asset; a still image has no time, and says what it is instead."""
    return gettext("Still image") if kind == "image" else time_range(start, end)


@register.simple_tag
def moment_label(title: str, start, end, kind: str = "video") -> str:
    """What a player plays: "Flood day one · 0:05–0:10"."""
    return f"{title} · {moment_time(start, end, kind)}"


@register.simple_tag
def moment_url(asset, start, end) -> str:
    """The asset page playing this moment: it starts at `start` and stops at `end` (a still: the page)."""
    url = asset.get_absolute_url()
    if asset.kind == "image" or _seconds(start) is None or _seconds(end) is None:
        return url
    return f"{url}?{urlencode({'t': float(start), 'end': float(end)})}"
