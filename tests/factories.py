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
