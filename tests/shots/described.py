"""Assets with described shots, made through the shots services (no pipeline): a video with several
shots and an image with its one 0–0 shot."""

from __future__ import annotations

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from mediahub.assets.models import Asset, Frame, frame_image_path
from mediahub.shots.services import shot_descriptions_save, shots_replace
from tests import factories

# A 70 s news video: a wide shot, a long one, and one from 65.4 s (the shot list says 01:05).
VIDEO_SHOTS = [
    ((0.0, 4.0), {"en": "A red circle on a blue background", "zh": "蓝色背景上的红色圆形"}),
    ((4.0, 65.4), {"en": "A green square on a white background", "zh": "白色背景上的绿色正方形"}),
    ((65.4, 70.0), {"en": "A yellow star on a black background", "zh": "黑色背景上的黄色星形"}),
]
IMAGE_DESCRIPTION = {"en": "An orange star on a purple background", "zh": "紫色背景上的橙色星形"}


def asset_row(owner, *, title: str, kind: str, duration: float | None, frame_times: list[float],
              status: str = "ready") -> Asset:
    content = f"{title}-{kind}".encode()
    asset = Asset(owner=owner, title=title, original_filename=f"{kind}.bin", size_bytes=len(content),
                  sha256=f"{abs(hash(content)):064x}", kind=kind, status=status, duration=duration, width=320,
                  height=240, mime_type="video/mp4" if kind == "video" else "image/png")
    asset.original.save(f"{kind}.bin", ContentFile(content), save=False)
    asset.save()
    for index, time in enumerate(frame_times):
        name = default_storage.save(frame_image_path(asset.pk, index), ContentFile(factories.png_bytes()))
        Frame.objects.create(asset=asset, index=index, time=time, image=name)
    Asset.objects.filter(pk=asset.pk).update(poster_index=0)
    asset.refresh_from_db()
    return asset


def described(asset: Asset, spans_and_texts) -> Asset:
    frames = list(Frame.objects.filter(asset=asset).order_by("index"))
    shots_replace(asset=asset, spans=[span for span, _ in spans_and_texts], frames=frames)
    shot_descriptions_save(asset=asset, descriptions=[texts for _, texts in spans_and_texts])
    return asset


def video_with_shots(owner, *, title: str = "Flood at the bridge") -> Asset:
    video = asset_row(owner, title=title, kind="video", duration=70.0, frame_times=[2.0, 30.0, 67.0])
    return described(video, VIDEO_SHOTS)


def image_with_description(owner, *, title: str = "Campaign poster") -> Asset:
    image = asset_row(owner, title=title, kind="image", duration=None, frame_times=[0.0])
    return described(image, [((0.0, 0.0), IMAGE_DESCRIPTION)])
