from django.conf import settings


def demo_model(request) -> dict:
    """`demo_model_active`: base.html then says on every page that tags and descriptions come from the demo model."""
    return {"demo_model_active": demo_model_active()}


def demo_model_active() -> bool:
    return settings.CLIP_MODEL == "demo"
