"""What a file is: image or video, its size, length, codec and orientation (PyAV and Pillow).

Errors are `MediaError`s whose message is a sentence for the person who uploaded the file.
"""

from __future__ import annotations

import io
import math
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import BinaryIO

import av
from PIL import Image, UnidentifiedImageError

Image.MAX_IMAGE_PIXELS = 200_000_000  # refuse decompression bombs, allow large press photos


class MediaError(Exception):
    """The file can't be used as it is; the message says why, for a person."""


@dataclass(frozen=True)
class MediaInfo:
    kind: str  # "video" | "image"
    width: int  # as displayed, after rotation
    height: int
    duration: float | None = None
    fps: float | None = None
    codec: str = ""
    rotation: int = 0  # degrees the stored picture is turned for display
    bitrate: int | None = None
    container: str = ""
    mime_type: str = ""
    has_audio: bool = False

    def as_dict(self) -> dict:
        return asdict(self)


IMAGE_MIME = {"JPEG": "image/jpeg", "PNG": "image/png", "GIF": "image/gif", "WEBP": "image/webp",
              "TIFF": "image/tiff", "BMP": "image/bmp"}
VIDEO_MIME = {"mov,mp4,m4a,3gp,3g2,mj2": "video/mp4", "matroska,webm": "video/x-matroska",
              "mpegts": "video/mp2t", "avi": "video/x-msvideo", "mpeg": "video/mpeg", "mxf": "application/mxf"}


def probe(source: Path | str | BinaryIO) -> MediaInfo:
    """Identify a file (a path, or a seekable binary reader) by its content, never its name, and check a
    picture can be decoded."""
    source = source if hasattr(source, "read") else Path(source)
    if _size(source) == 0:
        raise MediaError("The file is empty (0 bytes); upload it again.")
    image = _probe_image(source)
    return image if image is not None else _probe_video(_rewound(source))


def _size(source: Path | BinaryIO) -> int:
    return source.stat().st_size if isinstance(source, Path) else source.seek(0, io.SEEK_END)


def _rewound(source: Path | BinaryIO) -> str | BinaryIO:
    """`source` as PyAV and Pillow open it, from its first byte."""
    if isinstance(source, Path):
        return str(source)
    source.seek(0)
    return source


def _probe_image(source: Path | BinaryIO) -> MediaInfo | None:
    try:
        with Image.open(_rewound(source)) as img:
            if img.format not in IMAGE_MIME:
                return None
            img.load()
            width, height = img.size
            if _exif_rotation(img) in (90, 270):
                width, height = height, width
            return MediaInfo(kind="image", width=width, height=height, codec=img.format.lower(),
                             rotation=_exif_rotation(img), mime_type=IMAGE_MIME[img.format])
    except UnidentifiedImageError:
        return None
    except (OSError, SyntaxError, ValueError) as exc:
        raise MediaError(f"The image could not be decoded ({exc}); the file may be truncated or damaged.") from exc
    except Image.DecompressionBombError as exc:
        raise MediaError("The image is too large to process (over 200 megapixels).") from exc


def _exif_rotation(img: Image.Image) -> int:
    orientation = img.getexif().get(0x0112, 1)
    return {3: 180, 6: 90, 8: 270}.get(orientation, 0)


# FFmpeg "decodes" text files as pictures of the text (its tty demuxer): not footage.
TEXT_AS_VIDEO = {"ansi", "bintext", "xbin", "idf"}


def _probe_video(source: str | BinaryIO) -> MediaInfo:
    try:
        container = av.open(source, metadata_errors="ignore")
    except (av.error.FFmpegError, UnicodeDecodeError) as exc:
        raise MediaError(
            "The file is neither a video nor an image that mediahub can read "
            "(supported: MP4, MOV, MKV, WebM, AVI, MPEG-TS, MXF, JPEG, PNG, WebP, GIF, TIFF); "
            "if it is one, it may be truncated or damaged."
        ) from exc
    with container:
        if not container.streams.video:
            kind = "an audio file" if container.streams.audio else "a file without pictures"
            raise MediaError(f"This is {kind}: it has no video stream, and mediahub only handles video and images.")
        stream = container.streams.video[0]
        if stream.codec_context.name in TEXT_AS_VIDEO:
            raise MediaError("This is a text file, not a video or an image; mediahub only handles video and images.")
        first = _first_frame(container, stream)
        rotation = display_rotation(first.rotation)
        width, height = first.width, first.height
        if rotation in (90, 270):
            width, height = height, width
        return MediaInfo(
            kind="video", width=width, height=height,
            duration=_duration(container, stream), fps=_fps(stream),
            codec=stream.codec_context.name, rotation=rotation,
            bitrate=container.bit_rate or None, container=container.format.name,
            mime_type=VIDEO_MIME.get(container.format.name, "video/" + container.format.name.split(",")[0]),
            has_audio=bool(container.streams.audio),
        )


def _first_frame(container, stream) -> av.VideoFrame:
    try:
        for frame in container.decode(stream):
            return frame
    except av.error.FFmpegError as exc:
        raise MediaError(f"The video could not be decoded ({exc.strerror or exc}); the file may be truncated or damaged.") from exc
    raise MediaError("The video has no decodable frames; the file may be truncated or damaged.")


def display_rotation(degrees: float | int | None) -> int:
    """Display rotation as a clockwise multiple of 90 in 0..270."""
    if not degrees:
        return 0
    return int(round(-degrees / 90.0)) % 4 * 90


def _duration(container, stream) -> float | None:
    if stream.duration is not None and stream.time_base is not None:
        seconds = float(stream.duration * stream.time_base)
    elif container.duration is not None:
        seconds = container.duration / av.time_base
    else:
        return None
    return seconds if math.isfinite(seconds) and seconds > 0 else None


def _fps(stream) -> float | None:
    rate = stream.average_rate or stream.guessed_rate or stream.base_rate
    return round(float(rate), 3) if rate else None
