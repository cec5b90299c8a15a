from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import CommandError

from mediahub.assets.services import UploadRejected, asset_create
from mediahub.core.progress import ProgressCommand


class Command(ProgressCommand):
    help = "Import files, or folders recursively, through the same pipeline as an upload."

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.add_argument("paths", nargs="+", type=Path)
        parser.add_argument("--owner", help="Username to own the new assets (default: none).")

    def handle(self, *args, paths: list[Path], owner: str | None, **options):
        user = self._owner(owner)
        failures = 0
        files = list(self._files(paths))
        for path in self.progress(files, unit="file", desc="ingest"):
            try:
                with open(path, "rb") as source:
                    result = asset_create(source=source, filename=path.name, owner=user)
            except (UploadRejected, OSError) as exc:
                failures += 1
                self.stdout.write(f"{path}\tskipped\t{exc}")
                continue
            state = "duplicate" if result.duplicate else "queued"
            self.stdout.write(f"{path}\t{result.asset.pk}\t{state}")
        if failures:
            raise CommandError(f"{failures} file(s) could not be imported (see 'skipped' lines).")

    def _owner(self, username: str | None):
        if username is None:
            return None
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"No user named {username!r}.")
        return user

    def _files(self, paths: list[Path]):
        for path in paths:
            if path.is_dir():
                yield from sorted(p for p in path.rglob("*") if p.is_file() and not p.name.startswith("."))
            elif path.is_file():
                yield path
            else:
                raise CommandError(f"{path} does not exist.")
