import json

from django.core.management.base import CommandError

from mediahub.core.progress import ProgressCommand
from mediahub.search import selectors, services
from workers.ml.clip import ModelUnavailable


class Command(ProgressCommand):
    help = ("Measure the active model's relevance floor, spread, feedback radius, tag floor and shot continuity "
            "on the indexed library (unsupervised) and store them; searches use them from then on.")

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.add_argument("--max-frames", type=int, default=services.CALIBRATION_MAX_FRAMES,
                            help="measure on about this many frames (whole assets, picked at random)")
        parser.add_argument("--json", action="store_true", dest="as_json", help="print the figures as JSON")

    def handle(self, *args, max_frames: int, as_json: bool, **options):
        spec = selectors.active_clip_spec()
        try:
            row = services.calibration_measure(spec=spec, max_frames=max_frames, progress=self.progress)
        except (services.CalibrationFailed, ModelUnavailable) as exc:
            raise CommandError(str(exc)) from exc
        figures = {name: getattr(row, name) for name in ("match_floor", "spread", "feedback_radius", "tag_floor",
                                                          "shot_continuity")}
        if as_json:
            self.stdout.write(json.dumps({"model": spec.key, "frames": row.frames, **figures, "details": row.details}))
            return
        self.stdout.write(f"Calibrated {spec.key} on {row.frames} frames of {row.library_frames}:")
        for name, value in figures.items():
            self.stdout.write(f"  {name:16s} {value:.4f}")
        self.stdout.write("  measured from: " + ", ".join(f"{k}={v}" for k, v in row.details.items()))
