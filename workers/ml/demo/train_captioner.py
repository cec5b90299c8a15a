"""Train the bundled demo captioner (workers/ml/captioner.py) for the demo CLIP model.

Usage (from the repository root; ~2-3 min on a busy 2-core machine)::

    nice .venv/bin/python -m workers.ml.demo.train_captioner

The corpus is the test-pattern world's own captions: every shape x colour x background
combination, in English and in Chinese as CONTRACT.md sections 5 and 7 name them ("a red circle on
a blue background", "蓝色背景上的红色圆形"; "an" before a vowel, as the grammar writes it): 672
lines, embedded by the demo model's text tower. Deterministic for a seed.

The temperature of the projection is then chosen on held-out frames of random scenes (rendered,
JPEG round-tripped as the pipeline stores them, embedded by the demo model's image tower; other
seeds than the tests and bench/descriptions.py): the one with the most shots fully right in
both languages, ties going to the one nearest the paper's 1/100. The floor is the demo model's
calibrated tag floor, the grammar's: a shot whose best cosine with every caption is below it is
not captioned ("Footage." / "画面。").
"""

from __future__ import annotations

import argparse
import io
import math
import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image

from workers.media.frames import encode_jpeg
from workers.ml import captioner
from workers.ml.clip import ClipSpec, load_clip
from workers.ml.demo import world

TEMPERATURES = (0.0025, 0.005, 0.01, 0.02, 0.04, 0.08)
DECAP_TEMPERATURE = 0.01  # the paper's: CLIP's logit scale of 100


def english(shape: str, colour: str, background: str) -> str:
    """The canonical English caption with the right article ("an orange star ...")."""
    caption = world.full_caption(shape, colour, background, "en")
    return caption.replace("a orange", "an orange")


def corpus() -> list[str]:
    """Every combination's canonical caption, English then Chinese."""
    combos = list(world.combinations())
    return [english(*c) for c in combos] + [world.full_caption(*c, "zh") for c in combos]


def expected(scene: world.Scene) -> tuple[str, str]:
    en = english(scene.shape, scene.colour, scene.background)
    return en[0].upper() + en[1:] + ".", world.full_caption(scene.shape, scene.colour, scene.background, "zh") + "。"


def validation_shots(model, *, seed: int, shots: int, frames: int = 3):
    """[(scene, image vectors)] of random scenes, half 320x240, half 640x360 with the shape anywhere."""
    rng = np.random.default_rng(seed)
    out = []
    for i in range(shots):
        wide = i % 2 == 1
        width, height, roam = (640, 360, 4 / 3) if wide else (320, 240, 1.0)
        scene = world.random_scene(rng, roam=roam)
        times = np.linspace(0, scene.duration, frames + 2)[1:-1]
        images = [Image.open(io.BytesIO(encode_jpeg(Image.fromarray(
            world.render_frame(scene, t, width=width, height=height))))).convert("RGB") for t in times]
        out.append((scene, model.embed_images(images)))
    return out


def fully_right(model_captioner: captioner.Captioner, shots) -> float:
    right = 0
    for scene, vectors in shots:
        description = model_captioner.describe(vectors)
        right += (description.en, description.zh) == expected(scene)
    return right / len(shots)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=1200)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--noise", type=float, default=0.0)
    parser.add_argument("--validation-shots", type=int, default=96)
    parser.add_argument("--width", type=int, default=64)
    parser.add_argument("--layers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=1,
                        help="torch threads; on a busy 2-core machine 2 threads ran 10x slower than 1")
    parser.add_argument("--out", type=Path, default=captioner.BUNDLED_DEMO_PATH)
    args = parser.parse_args(argv)

    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(args.threads)
    try:
        return train(args)
    finally:
        torch.set_num_threads(threads)


def train(args) -> int:
    started = time.monotonic()
    model = load_clip(ClipSpec(name="demo", pretrained=""))
    trained = captioner.train_captioner(
        corpus(), model.embed_texts, clip_key=model.spec.key, steps=args.steps, batch_size=args.batch,
        width=args.width, layers=args.layers, noise=args.noise, seed=args.seed, floor=model.calibration.tag_floor, log=print)

    shots = validation_shots(model, seed=args.seed + 4242, shots=args.validation_shots)
    scores = {}
    for temperature in TEMPERATURES:
        trained.temperature = temperature
        scores[temperature] = fully_right(trained, shots)
        print(f"temperature {temperature}: fully right {scores[temperature]:.3f} of {len(shots)} held-out shots")
    trained.temperature = max(TEMPERATURES, key=lambda t: (scores[t], -abs(math.log(t / DECAP_TEMPERATURE))))
    trained.facts.update({"temperature_chosen_on": f"{len(shots)} held-out shots, seed {args.seed + 4242}",
                          "fully_right_by_temperature": {str(t): round(s, 4) for t, s in scores.items()},
                          "total_seconds": round(time.monotonic() - started, 1)})
    path = trained.save(args.out)
    size = path.stat().st_size + path.with_suffix(".json").stat().st_size
    print(f"temperature {trained.temperature}, floor {trained.floor}; saved {path} ({size / 1e6:.2f} MB) "
          f"in {time.monotonic() - started:.0f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
