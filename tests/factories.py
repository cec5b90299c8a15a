"""Factories for test rows and files."""

import io
import itertools

from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

_numbers = itertools.count(1)
PASSWORD = "correct horse battery staple"


def user(prefix: str = "user", **fields):
    username = f"{prefix}{next(_numbers)}"
    return get_user_model().objects.create_user(username=username, password=PASSWORD, **fields)


def png_bytes(colour=(220, 40, 40), size=(64, 48)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, colour).save(buffer, format="PNG")
    return buffer.getvalue()


def upload_file(name: str, content: bytes, content_type: str = "application/octet-stream") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type=content_type)


def person(name: str = "", **fields):
    from mediahub.people.models import Person

    return Person.objects.create(name=name, **fields)


def face_track(*, asset, start: float, end: float, person=None, box=(40, 30, 64, 64), **fields):
    """A face track of `asset` seen in every sampled second from `start` up to `end` (an image: start = end = 0)."""
    from mediahub.people.models import FaceTrack

    index = FaceTrack.objects.filter(asset=asset).count()
    seconds = range(int(start), max(int(end), int(start) + 1))
    return FaceTrack.objects.create(asset=asset, index=index, start=start, end=end, box=list(box),
                                    boxes=[[float(t), *box] for t in seconds], person=person, **fields)


def face(*, track, time: float, height: int = 64, sharpness: float = 100.0):
    """A described face of `track` (descriptor and chip are placeholders: nothing here reads them)."""
    from mediahub.people.models import DESCRIPTOR_DIM, Face

    box = [40, 30, height, height]
    return Face.objects.create(track=track, asset=track.asset, time=time, box=box, score=1.0, sharpness=sharpness,
                               chip=f"faces/{track.asset_id}/{track.index:04d}-{round(time * 1000):09d}.jpg",
                               descriptor=[0.0] * (DESCRIPTOR_DIM - 1) + [1.0])
