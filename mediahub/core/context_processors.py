from django.conf import settings

from mediahub.core.interface import script_text


def demo_model(request) -> dict:
    """`demo_model_active`: base.html then says on every page that tags and descriptions come from the demo model."""
    return {"demo_model_active": demo_model_active()}


def demo_model_active() -> bool:
    return settings.CLIP_MODEL == "demo"


def interface_text(request) -> dict:
    """`script_text`: the words app.js shows, in the page's language (made only when a page draws it)."""
    return {"script_text": script_text}
