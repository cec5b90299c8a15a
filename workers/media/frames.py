"""Sampling one frame per interval from a video (or the one frame of an image) with PyAV.

Frames are decoded with FFmpeg's threads and scaled by swscale straight to the
stored size, so no full-resolution RGB copy of any frame is ever made.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import av
from PIL import Image, ImageOps

from workers.media.probe import MediaError, display_rotation

FRAME_SHORT_SIDE = 224  # CLIP's input size; the stored frame also serves as thumbnail
JPEG_QUALITY = 85


@dataclass
class SampledFrame:
    index: int  # position on the sampling grid
    time: float  # seconds from the first frame
    image: Image.Image  # RGB, rotated for display, short side FRAME_SHORT_SIDE at most


@dataclass
class SamplingReport:
    """What the sampler saw: the last decodable time, and whether decoding stopped early."""

    decoded_until: float = 0.0
    damaged: str | None = None
    frames: int = 0


def scaled_size(width: int, height: int, short_side: int = FRAME_SHORT_SIDE) -> tuple[int, int]:
    scale = min(1.0, short_side / min(width, height))
    return max(2, round(width * scale / 2) * 2), max(2, round(height * scale / 2) * 2)


def sample_video(path: Path | str, *, interval: float = 1.0, report: SamplingReport | None = None) -> Iterator[SampledFrame]:
    """Yield the first frame at or after each multiple of `interval` seconds.

    A file that breaks off part-way yields what could be decoded and records
    the damage in `report` instead of raising; a file with no decodable frame
    raises MediaError.
    """
    report = report if report is not None else SamplingReport()
    with av.open(str(path), metadata_errors="ignore") as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        next_index, first_time = 0, None
        try:
            for frame in container.decode(stream):
                if frame.time is None:
                    continue
                first_time = frame.time if first_time is None else first_time
                time = frame.time - first_time
                report.decoded_until = max(report.decoded_until, time)
                if time + 1e-6 < next_index * interval:
                    continue
                index = int((time + 1e-6) // interval)  # a gap in a variable-rate video skips grid slots
                yield SampledFrame(index=index, time=round(time, 3), image=_frame_image(frame))
                report.frames += 1
                next_index = index + 1
        except av.error.FFmpegError as exc:
            if report.frames == 0:
                raise MediaError(f"The video could not be decoded ({exc.strerror or exc}); the file may be damaged.") from exc
            report.damaged = str(exc.strerror or exc)
    if report.frames == 0:
        raise MediaError("The video has no decodable frames; the file may be truncated or damaged.")


def _frame_image(frame: av.VideoFrame) -> Image.Image:
    width, height = scaled_size(frame.width, frame.height)
    image = frame.reformat(width=width, height=height, format="rgb24").to_image()
    rotation = display_rotation(frame.rotation)
    return image.rotate(-rotation, expand=True) if rotation else image


def sample_image(path: Path | str) -> SampledFrame:
    """The single 'frame' of a still image, EXIF orientation applied."""
    with Image.open(path) as img:
        img.draft("RGB", scaled_size(*img.size))  # lets JPEG decode at reduced size
        img = ImageOps.exif_transpose(img).convert("RGB")
        img.thumbnail(scaled_size(*img.size), Image.Resampling.BILINEAR)
        return SampledFrame(index=0, time=0.0, image=img)


def encode_jpeg(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=JPEG_QUALITY, optimize=True)
    return buffer.getvalue()
