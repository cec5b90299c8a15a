import math
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from mediahub.search.selectors import active_clip_spec
from mediahub.shots.captioning import captioner_path, describer_method
from workers.ml.captioner import read_corpus, train_captioner
from workers.ml.clip import ModelUnavailable, load_clip


class Command(BaseCommand):
    help = ("Train a captioner (a small decoder that writes a sentence from a CLIP vector, trained from text alone) "
            "for the active CLIP model from a caption corpus: a UTF-8 text file, one English or Chinese caption "
            "per line. It is saved in the data dir, where shot descriptions find it.")

    def add_arguments(self, parser):
        parser.add_argument("corpus", type=Path)
        budget = parser.add_mutually_exclusive_group()
        budget.add_argument("--steps", type=int, help="training steps (default 2000)")
        budget.add_argument("--epochs", type=float, help="passes over the corpus, instead of --steps")
        parser.add_argument("--batch", type=int, default=64)
        parser.add_argument("--temperature", type=float,
                            help="of the projection onto the corpus (default: 1 / the model's logit scale, DeCap's)")
        parser.add_argument("--floor", type=float,
                            help="a shot less similar than this to every caption is not captioned "
                                 "(default: the model's tag floor)")
        parser.add_argument("--max-memory", type=int, default=50000, help="captions kept for the projection")
        parser.add_argument("--seed", type=int, default=0)

    def handle(self, *args, corpus: Path, steps, epochs, batch, temperature, floor, max_memory, seed, **options):
        lines = self._read(corpus)
        if steps is not None and steps < 1 or epochs is not None and epochs <= 0 or batch < 1:
            raise CommandError("--steps, --epochs and --batch must be above 0.")
        if temperature is not None and temperature <= 0:
            raise CommandError(f"--temperature must be above 0 (DeCap's is 0.01), not {temperature}.")
        captions = len(read_corpus(lines))
        if captions == 0:
            raise CommandError(f"{corpus} has no caption in it: give a text file with one caption per line.")
        if epochs is not None:
            steps = max(1, math.ceil(epochs * captions / batch))
        spec = active_clip_spec()
        try:
            model = load_clip(spec)
        except ModelUnavailable as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"Training a captioner for {spec.key} on {captions} captions of {corpus}, {steps or 2000} steps")
        captioner = train_captioner(
            lines, model.embed_texts, clip_key=spec.key, steps=steps or 2000, batch_size=batch,
            temperature=temperature if temperature is not None else 1 / model.logit_scale,
            floor=floor if floor is not None else model.calibration.tag_floor, max_memory=max_memory, seed=seed,
            log=lambda line: self.stdout.write("  " + line))
        path = captioner.save(captioner_path(spec))
        self.stdout.write(f"Saved the captioner for {spec.key} to {path} (and {path.with_suffix('.json').name})")
        if describer_method(spec) == "captioner":
            self.stdout.write("Shots processed from now on are described by it (restart running workers); "
                              "reprocess an asset to describe it again.")
        else:
            self.stdout.write("This model's shots stay described by the grammar, which measured better for it "
                              "(README, Descriptions); the captioner is kept for comparison.")

    def _read(self, corpus: Path) -> list[str]:
        try:
            return corpus.read_text(encoding="utf-8").splitlines()
        except FileNotFoundError:
            raise CommandError(f"No corpus file at {corpus}.") from None
        except UnicodeDecodeError:
            raise CommandError(f"{corpus} is not UTF-8 text: save the corpus as UTF-8, one caption per line.") from None
        except OSError as exc:
            raise CommandError(f"{corpus} can't be read ({exc.strerror}).") from None
