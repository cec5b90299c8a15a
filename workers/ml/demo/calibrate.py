"""Measure how the demo model's cosine similarities read, and store it in the meta JSON.

    .venv/bin/python -m workers.ml.demo.calibrate

Renders held-out frames of the world at 320x240 and compares them with the
caption forms of both languages (a caption is a match when it is true of the
frame). Writes `calibration` into mediahub-demo.meta.json:

- match_floor: a frame scoring below this does not match a query well (the
  midpoint between the 10th percentile of matching and the 90th percentile of
  non-matching similarities);
- spread: median matching minus median non-matching similarity;
- feedback_radius: query vectors closer than this share feedback: between the
  least similar paraphrase pair ("circle" / "a circle" / "圆形") and the most
  similar pair of different queries ("red circle" / "red square");
- tag_floor: the training script's tag_min_similarity;
- shot_continuity: frames a second apart in one scene are more similar than
  this, frames of different scenes less (the midpoint between the 5th
  percentile of the first and the 95th of the second).
"""

from __future__ import annotations

import json

import numpy as np

from workers.ml import demo
from workers.ml.clip import ClipSpec, load_clip
from workers.ml.demo import world

FRAMES = 240
PARAPHRASES = [("circle", "a circle"), ("red circle", "a red circle"), ("圆形", "一个圆形"),
               ("something red", "a red shape"), ("红色圆形", "一个红色圆形"), ("square", "a square"),
               ("a blue star", "blue star"), ("蓝色星形", "一个蓝色星形")]
DIFFERENT = [("red circle", "red square"), ("circle", "square"), ("red circle", "blue circle"),
             ("something red", "something orange"), ("红色圆形", "红色正方形"), ("star", "cross"),
             ("a purple diamond", "a purple star"), ("a red circle on a blue background", "a red circle on a green background")]


def _similarities(model, rng) -> tuple[np.ndarray, np.ndarray]:
    scenes = [world.random_scene(rng) for _ in range(FRAMES)]
    images = [world.render_frame(scene, scene.duration / 2, width=320, height=240) for scene in scenes]
    from PIL import Image

    image_vectors = model.embed_images([Image.fromarray(image) for image in images])
    matching, other = [], []
    for lang in world.LANGS:
        for form in world.CAPTION_FORMS[lang]:
            attrs = [(str(rng.choice(world.SHAPES)),) + _two_colours(rng) for _ in range(12)]
            texts = [form.render(*a, lang) for a in attrs]
            text_vectors = model.embed_texts(texts)
            sims = image_vectors @ text_vectors.T
            for j, a in enumerate(attrs):
                for i, scene in enumerate(scenes):
                    target = matching if world.caption_matches(form.uses, a, (scene.shape, scene.colour, scene.background)) else other
                    target.append(sims[i, j])
    return np.asarray(matching), np.asarray(other)


def _two_colours(rng) -> tuple[str, str]:
    first, second = rng.choice(list(world.COLOURS), size=2, replace=False)
    return str(first), str(second)


def _pair_similarity(model, pairs) -> np.ndarray:
    left = model.embed_texts([a for a, _ in pairs])
    right = model.embed_texts([b for _, b in pairs])
    return np.sum(left * right, axis=1)


def _continuity(model, rng) -> tuple[np.ndarray, np.ndarray]:
    """Cosine between frames one second apart in one scene, and between frames of two different scenes."""
    from PIL import Image

    def vectors(frames):
        return model.embed_images([Image.fromarray(world.render_frame(s, t, width=320, height=240)) for s, t in frames])

    scenes = [world.random_scene(rng, roam=4 / 3) for _ in range(FRAMES)]
    starts = [float(rng.uniform(0, scene.duration - 1)) for scene in scenes]
    now, later = vectors(zip(scenes, starts)), vectors((s, t + 1) for s, t in zip(scenes, starts))
    others = vectors((world.random_scene(rng, roam=4 / 3), 0.0) for _ in scenes)
    return np.sum(now * later, axis=1), np.sum(later * others, axis=1)


def calibrate() -> dict:
    model = load_clip(ClipSpec(name="demo", pretrained=""))
    matching, other = _similarities(model, np.random.default_rng(2026))
    same_shot, cut = _continuity(model, np.random.default_rng(7))
    paraphrase, different = _pair_similarity(model, PARAPHRASES), _pair_similarity(model, DIFFERENT)
    meta = demo.load_meta()
    return {
        "match_floor": round(float((np.percentile(matching, 10) + np.percentile(other, 90)) / 2), 4),
        "spread": round(float(np.median(matching) - np.median(other)), 4),
        "feedback_radius": round(float((paraphrase.min() + different.max()) / 2), 4),
        "tag_floor": float(meta.get("tag_min_similarity", 0.2)),
        "shot_continuity": round(float((np.percentile(same_shot, 5) + np.percentile(cut, 95)) / 2), 4),
        "measured": {"same_shot_p5": round(float(np.percentile(same_shot, 5)), 4),
                     "cut_p95": round(float(np.percentile(cut, 95)), 4),"matching_p10": round(float(np.percentile(matching, 10)), 4),
                     "other_p90": round(float(np.percentile(other, 90)), 4),
                     "paraphrase_min": round(float(paraphrase.min()), 4),
                     "different_max": round(float(different.max()), 4)},
    }


def main() -> None:
    calibration = calibrate()
    meta = demo.load_meta()
    meta["calibration"] = {k: v for k, v in calibration.items() if k != "measured"}
    meta["calibration_measured"] = calibration["measured"]
    demo.META_PATH.write_text(json.dumps(meta, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(json.dumps(calibration, indent=1, ensure_ascii=False))


if __name__ == "__main__":
    main()
