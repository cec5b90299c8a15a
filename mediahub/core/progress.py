"""Progress bars for long admin commands (README, "Operations"): tqdm on stderr, shown only while stderr is
a terminal and `--no-progress` was not given, so pipes, scripts and log files never see one. While a bar
is shown, console log lines are written above it whole (tqdm's logging redirect), JSON lines included.

Services that loop long take `progress=` (a callable like tqdm: `progress(iterable, total=, unit=, desc=)`
giving the same items back); it defaults to `as_is`, no bar.
"""

from __future__ import annotations

from typing import Callable, Iterable, Iterator, TypeVar

from django.core.management.base import BaseCommand
from tqdm import tqdm
from tqdm.contrib.logging import logging_redirect_tqdm

T = TypeVar("T")
Progress = Callable[..., Iterable]


def as_is(iterable: Iterable[T], **_) -> Iterable[T]:
    return iterable


class ProgressCommand(BaseCommand):
    """A management command that can show a progress bar: `self.progress` is what its services take."""

    def add_arguments(self, parser):
        parser.add_argument("--no-progress", action="store_true",
                            help="no progress bar (there is none anyway when stderr is not a terminal)")

    def execute(self, *args, **options):
        self.no_progress = options.get("no_progress", False)
        return super().execute(*args, **options)

    def progress(self, iterable: Iterable[T], *, total: int | None = None, unit: str = "it",
                 desc: str | None = None) -> Iterable[T]:
        if self.no_progress or not self.stderr.isatty():
            return iterable
        return self._bar(iterable, total=total, unit=unit, desc=desc)

    def _bar(self, iterable: Iterable[T], **shown) -> Iterator[T]:
        # The wrapper would end every write with a newline; the bar redraws its line with \r.
        with logging_redirect_tqdm(), tqdm(iterable, file=self.stderr._out, dynamic_ncols=True, **shown) as bar:
            yield from bar
