"""Reads of search data."""

from django.conf import settings

from workers.ml.clip import ClipSpec


def active_clip_spec() -> ClipSpec:
    """The CLIP model the settings ask for (MEDIAHUB_CLIP_MODEL / _PRETRAINED / MEDIAHUB_DEVICE)."""
    return ClipSpec(name=settings.CLIP_MODEL, pretrained=settings.CLIP_PRETRAINED, device=settings.DEVICE,
                    cache_dir=str(settings.MODEL_CACHE_DIR))
