from django import template

register = template.Library()


@register.filter
def clock(seconds) -> str:
    """Seconds as the player shows them: 0:04, 1:12, 1:02:03."""
    try:
        total = int(float(seconds) + 0.5)
    except (TypeError, ValueError):
        return ""
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"
