"""`manage.py ingest PATH ...`: bulk import through the upload path, one line per file."""

import pytest
from django.core.management import CommandError, call_command

from mediahub.assets.models import Asset
from tests import factories


def test_ingest_imports_files_and_folders_recursively_one_line_each(tmp_path, capsys, owner,
                                                                    two_scene_video, django_capture_on_commit_callbacks):
    folder = tmp_path / "footage" / "day1"
    folder.mkdir(parents=True)
    (folder / "still.png").write_bytes(factories.png_bytes())
    (folder / ".DS_Store").write_bytes(b"junk")
    with django_capture_on_commit_callbacks() as callbacks:
        call_command("ingest", str(tmp_path / "footage"), str(two_scene_video), "--owner", owner.username)
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 2
    ids = {line.split("\t")[0].rsplit("/", 1)[-1]: int(line.split("\t")[1]) for line in lines}
    assert set(ids) == {"still.png", "clip.mp4"}
    assert set(Asset.objects.values_list("pk", flat=True)) == set(ids.values())
    assert all(asset.owner == owner for asset in Asset.objects.all())
    assert len(callbacks) == 2


def test_ingest_reports_duplicates_and_bad_files_and_keeps_going(tmp_path, capsys, two_scene_video, db):
    (tmp_path / "broken.mp4").write_bytes(b"\x00\x01garbage" * 50)
    call_command("ingest", str(two_scene_video))
    capsys.readouterr()
    with pytest.raises(CommandError, match="1 file"):
        call_command("ingest", str(tmp_path / "broken.mp4"), str(two_scene_video))
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[0].endswith("neither a video nor an image that mediahub can read (supported: MP4, MOV, MKV, "
                             "WebM, AVI, MPEG-TS, MXF, JPEG, PNG, WebP, GIF, TIFF); if it is one, it may be truncated or damaged.")
    assert "\tskipped\t" in lines[0]
    assert lines[1].endswith("\tduplicate")
    assert Asset.objects.count() == 1
