"""Shot descriptions by a grammar scored by CLIP: one short sentence in English and in Chinese.

A grammar has slots (for real footage: shot size, subject, action, setting, light/weather; for
the test-pattern world of CONTRACT.md section 5: shape, colour, background). Each slot has a
bilingual phrase table; a phrase is scored by the cosine between the shot's image vector (the
normalised mean of its frames' vectors) and the text tower's vectors of the phrase's prompts.
A slot takes its best phrase only when

- that phrase is clearly ahead of the slot's runner-up: its softmax probability at the model's
  logit scale is at least `min_odds` times the runner-up's (the rule tagging uses), and
- its cosine clears the model's floor (the calibrated tag floor: ~0.2 for published CLIP
  models, 0.43 for the demo model),

and is left out otherwise. English and Chinese templates render the filled slots, and only
those, into one sentence; with no slot filled the sentence is neutral ("Footage." / "画面。"),
so a description never states what no slot supports.

Which grammar applies follows from the model: one whose training words don't cover the
real-footage prompts (the demo model, which knows only its world) gets the test-pattern
grammar; every other model gets the real-footage one.

The test-pattern grammar scores each phrase by the best of the world's full captions that name
it ("a red circle on a blue background", "蓝色背景上的红色圆形", every combination): the slots
then always agree with one caption, and footage the demo model can't read stays below the
floor. Scored by short prompts instead ("circle", "something red"), the demo model calls real
footage a star with high confidence (bench/descriptions.py measures both). The real-footage
grammar averages each phrase's prompt vectors (CLIP's prompt ensembling), since its slots
combine into far too many sentences to enumerate.

No Django: vectors in, sentences out. Text vectors are encoded once per Describer through the
`encode_texts` function it is given (the model's own, or one backed by a stored cache).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Callable, Sequence

import numpy as np

from workers.ml.demo import world

NEUTRAL = ("Footage.", "画面。")
DEFAULT_MIN_ODDS = 2.0  # as tagging: the best phrase must be twice as likely as the runner-up


@dataclass(frozen=True)
class Phrase:
    """One entry of a slot's table. `kinds`: for subjects, what they are (person, animal, vehicle,
    thing); for actions, which subjects they suit. The real-footage grammar's settings carry a
    second form in each language (`en_noun`/`zh_noun`) for sentences without a subject."""

    key: str
    en: str
    zh: str
    prompts: tuple[str, ...]
    kinds: frozenset[str] = frozenset()
    en_noun: str = ""
    zh_noun: str = ""


@dataclass(frozen=True)
class Slot:
    name: str
    phrases: tuple[Phrase, ...]


@dataclass(frozen=True)
class Grammar:
    name: str
    slots: tuple[Slot, ...]
    pooling: str  # "mean": a phrase's vector is its prompts' mean; "max": a phrase scores its best prompt
    render: Callable[[dict[str, Phrase]], tuple[str, str]]  # filled slots -> (English, Chinese)
    resolve: Callable[[dict[str, Phrase]], dict[str, Phrase]] = dict  # drops slots that can't be said together

    def prompts(self) -> list[str]:
        """Every prompt of every phrase, each once."""
        return list(dict.fromkeys(p for slot in self.slots for phrase in slot.phrases for p in phrase.prompts))


@dataclass(frozen=True)
class Description:
    en: str
    zh: str
    slots: dict[str, str]  # filled slot -> phrase key, e.g. {"shape": "circle", "colour": "red"}
    scores: dict[str, float] = field(default_factory=dict)  # filled slot -> cosine of its phrase


# --------------------------------------------------------------------------------------------
# The test-pattern world (names exactly as CONTRACT.md section 5)
# --------------------------------------------------------------------------------------------

def _world_captions(slot: str, value: str) -> tuple[str, ...]:
    """The world's canonical full captions, both languages, of every combination with this value."""
    index = {"shape": 0, "colour": 1, "background": 2}[slot]
    return tuple(world.full_caption(*combination, lang) for lang in world.LANGS
                 for combination in world.combinations() if combination[index] == value)


def _an(word: str) -> str:
    return ("an " if word[0] in "aeiou" else "a ") + word


def _render_test_pattern(filled: dict[str, Phrase]) -> tuple[str, str]:
    shape, colour, background = (filled.get(name) for name in ("shape", "colour", "background"))
    if not (shape or colour or background):
        return NEUTRAL
    if shape or colour:
        noun_en = " ".join(p for p in (colour and colour.en, shape.en if shape else "shape") if p)
        noun_zh = (colour.zh if colour else "") + (shape.zh if shape else "形状")
        en = _an(noun_en) + (f" on {_an(background.en)} background" if background else "")
        zh = (f"{background.zh}背景上的" if background else "") + noun_zh
    else:
        en, zh = f"{_an(background.en)} background", f"{background.zh}背景"
    return _sentence(en), zh + "。"


TEST_PATTERN = Grammar(
    name="test-pattern",
    slots=(
        Slot("shape", tuple(Phrase(s, s, world.SHAPE_ZH[s], _world_captions("shape", s)) for s in world.SHAPES)),
        Slot("colour", tuple(Phrase(c, c, world.COLOUR_ZH[c], _world_captions("colour", c)) for c in world.COLOURS)),
        Slot("background", tuple(Phrase(c, c, world.COLOUR_ZH[c], _world_captions("background", c))
                                 for c in world.COLOURS)),
    ),
    pooling="max",
    render=_render_test_pattern,
)


# --------------------------------------------------------------------------------------------
# Real footage
# --------------------------------------------------------------------------------------------

PERSON, PEOPLE, ANIMAL, VEHICLE, THING = "person", "people", "animal", "vehicle", "thing"
EN_TEMPLATES = ("a photo of {}", "a video still of {}")
ZH_TEMPLATES = ("{}的照片", "视频画面：{}")


def _prompts(english: Sequence[str], chinese: Sequence[str]) -> tuple[str, ...]:
    return tuple([t.format(e) for e in english for t in EN_TEMPLATES] + [t.format(z) for z in chinese for t in ZH_TEMPLATES])


def _subject(key, en, zh, kinds, english=(), chinese=()):
    return Phrase(key, en, zh, _prompts([en, *english], [zh, *chinese]), kinds=frozenset(kinds))


def _action(key, en, zh, kinds, english, chinese):
    return Phrase(key, en, zh, _prompts(english, chinese), kinds=frozenset(kinds))


def _setting(key, en_noun, en, zh_noun, zh, english=(), chinese=()):
    return Phrase(key, en, zh, _prompts([en_noun, *english], [zh_noun, *chinese]), en_noun=en_noun, zh_noun=zh_noun)


SHOT_SIZES = (
    Phrase("wide", "Wide shot", "远景", ("a wide shot", "a wide establishing shot from far away", "a long shot",
                                         "远景镜头", "远景画面")),
    Phrase("medium", "Medium shot", "中景", ("a medium shot", "a mid shot from the waist up", "中景镜头", "中景画面")),
    Phrase("close-up", "Close-up", "特写", ("a close-up shot", "a close-up", "an extreme close-up", "特写镜头", "特写画面")),
)

SUBJECTS = (
    _subject("person", "a person", "一个人", {PERSON}, ["someone", "a man or a woman"], ["一名男子或女子"]),
    _subject("people", "a group of people", "一群人", {PEOPLE}, ["several people"], ["几个人"]),
    _subject("crowd", "a crowd", "人群", {PEOPLE}, ["a large crowd of people"], ["很多人"]),
    _subject("child", "a child", "一个孩子", {PERSON}, ["a young child"], ["小孩"]),
    _subject("cyclist", "a cyclist", "一名骑车人", {PERSON}, ["a person on a bicycle"], ["骑自行车的人"]),
    _subject("car", "a car", "一辆汽车", {VEHICLE}, ["a passenger car"], ["轿车"]),
    _subject("bus", "a bus", "一辆公交车", {VEHICLE}, ["a city bus"], ["巴士"]),
    _subject("truck", "a truck", "一辆卡车", {VEHICLE}, ["a lorry"], ["货车"]),
    _subject("train", "a train", "一列火车", {VEHICLE}, ["a passenger train"], ["列车"]),
    _subject("airplane", "an airplane", "一架飞机", {VEHICLE}, ["an airliner"], ["客机"]),
    _subject("boat", "a boat", "一艘船", {VEHICLE}, ["a ship"], ["船只"]),
    _subject("dog", "a dog", "一只狗", {ANIMAL}, [], ["小狗"]),
    _subject("cat", "a cat", "一只猫", {ANIMAL}, [], ["小猫"]),
    _subject("bird", "a bird", "一只鸟", {ANIMAL}, ["birds"], ["鸟类"]),
    _subject("horse", "a horse", "一匹马", {ANIMAL}, [], []),
    _subject("rabbit", "a rabbit", "一只兔子", {ANIMAL}, ["a bunny"], ["兔"]),
    _subject("cartoon", "a cartoon character", "一个卡通角色", {ANIMAL, PERSON}, ["an animated character"], ["动画人物"]),
    _subject("building", "a building", "一栋建筑", {THING}, ["a tall building"], ["楼房"]),
    _subject("flag", "a flag", "一面旗帜", {THING}, ["a national flag"], ["国旗"]),
    _subject("screen", "on-screen graphics", "图文画面", {THING}, ["a chart or a map on screen"], ["屏幕上的图表"]),
)

# An action suits the kinds of subject it lists; without a subject, an action of people is said of
# "someone" ("有人") and any other is left out.
ACTIONS = (
    _action("walking", "walking", "走路", {PERSON, PEOPLE, ANIMAL}, ["a person walking", "people walking"], ["行人在走路", "走路的人"]),
    _action("running", "running", "奔跑", {PERSON, PEOPLE, ANIMAL}, ["a person running", "an animal running"], ["奔跑的人", "跑步"]),
    _action("talking", "talking", "交谈", {PERSON, PEOPLE}, ["people talking to each other", "a person speaking"], ["人们在交谈", "说话的人"]),
    _action("phoning", "talking on a phone", "打电话", {PERSON}, ["a person talking on a mobile phone"], ["打电话的人"]),
    _action("cycling", "cycling", "骑自行车", {PERSON, PEOPLE}, ["people riding bicycles", "a person riding a bike"], ["骑自行车的人"]),
    _action("driving", "driving", "开车", {PERSON}, ["a person driving a car", "a driver at the wheel"], ["司机在开车"]),
    _action("moving", "moving", "行驶", {VEHICLE}, ["a vehicle driving along a road", "moving traffic"], ["车辆在行驶"]),
    _action("sitting", "sitting", "坐着", {PERSON, PEOPLE, ANIMAL}, ["a person sitting", "people sitting down"], ["坐着的人"]),
    _action("speech", "giving a speech", "发表讲话", {PERSON}, ["a speaker at a podium with microphones", "a politician giving a speech"], ["发言人在讲台上讲话"]),
    _action("flying", "flying", "飞行", {ANIMAL, VEHICLE}, ["a bird flying", "an airplane flying in the sky"], ["在空中飞行"]),
    _action("eating", "eating", "吃东西", {PERSON, PEOPLE, ANIMAL}, ["a person eating", "an animal eating"], ["吃饭"]),
)

SETTINGS = (
    _setting("street", "a city street", "on a city street", "城市街道", "城市街道上", ["a busy street"], ["街头"]),
    _setting("road", "a road", "on a road", "道路", "道路上", ["a country road", "a highway"], ["公路"]),
    _setting("field", "a field", "in a field", "田野", "田野里", ["a meadow", "farmland"], ["草地"]),
    _setting("forest", "a forest", "in a forest", "森林", "森林里", ["woods with trees"], ["树林"]),
    _setting("park", "a park", "in a park", "公园", "公园里", ["a green city park"], []),
    _setting("beach", "a beach", "on a beach", "海滩", "海滩上", ["the sea shore"], ["沙滩"]),
    _setting("water", "the water", "on the water", "水面", "水面上", ["a river or a lake", "the sea"], ["江河湖海"]),
    _setting("mountains", "mountains", "in the mountains", "山区", "山里", ["a mountain landscape"], ["高山"]),
    _setting("car", "the inside of a car", "in a car", "车内", "车里", ["the interior of a car"], ["汽车里"]),
    _setting("office", "an office", "in an office", "办公室", "办公室里", ["desks and computers in an office"], []),
    _setting("meeting", "a conference room", "in a conference room", "会议室", "会议室里", ["a meeting room"], []),
    _setting("studio", "a studio", "in a studio", "演播室", "演播室里", ["a television studio"], ["电视演播室"]),
    _setting("stadium", "a stadium", "in a stadium", "体育场", "体育场里", ["a sports stadium"], ["体育馆"]),
    _setting("home", "a room at home", "at home", "家中", "家里", ["a living room"], ["客厅"]),
    _setting("sky", "the sky", "in the sky", "天空", "空中", ["clouds in the sky"], []),
)

LIGHT = (
    Phrase("daylight", "in daylight", "白天", _prompts(["a scene in bright daylight", "a sunny day"], ["白天", "阳光明媚"])),
    Phrase("night", "at night", "夜晚", _prompts(["a dark night scene with lights", "a street at night"], ["夜晚", "夜景"])),
    Phrase("sunset", "at sunset", "日落时", _prompts(["the sun setting with an orange sky", "sunset"], ["日落", "黄昏"])),
    Phrase("rain", "in the rain", "雨中", _prompts(["rain falling", "people with umbrellas in the rain"], ["下雨", "雨天"])),
    Phrase("snow", "in the snow", "雪中", _prompts(["snow covering the ground", "snow falling"], ["下雪", "雪景"])),
    Phrase("fog", "in fog", "雾中", _prompts(["a foggy scene with low visibility"], ["大雾", "雾天"])),
    Phrase("indoor", "under indoor lighting", "室内灯光下", _prompts(["a room lit by lamps", "indoor lighting"], ["室内灯光"])),
)


def _resolve_footage(filled: dict[str, Phrase]) -> dict[str, Phrase]:
    """Drop an action the subject can't do (a car talking) or that needs a subject none names."""
    subject, action = filled.get("subject"), filled.get("action")
    if action and not (action.kinds & (subject.kinds if subject else {PERSON})):
        filled = {name: phrase for name, phrase in filled.items() if name != "action"}
    return filled


def _render_footage(filled: dict[str, Phrase]) -> tuple[str, str]:
    shot, subject, action, setting, light = (filled.get(name) for name in ("shot", "subject", "action", "setting", "light"))
    if action and not subject:
        subject = _SOMEONE
    if not any((shot, subject, setting, light)):
        return NEUTRAL

    # English: "Wide shot of a person walking on a city street at night."
    body = " ".join(p for p in (subject and subject.en, action and action.en,
                                setting and (setting.en if subject else setting.en_noun), light and light.en) if p)
    if shot:
        en = f"{shot.en} of {body}" if (subject or setting) else " ".join(p for p in (shot.en, light and light.en) if p)
    else:
        en = body if (subject or setting) else f"A scene {light.en}"

    # Chinese: "远景：夜晚，一个人在城市街道上走路。"
    if subject:
        zh = subject.zh + (f"在{setting.zh}" if setting else "") + (("" if setting else "在") + action.zh if action else "")
        zh = (f"{light.zh}，" if light else "") + zh
    elif setting:
        zh = (f"{light.zh}的" if light else "") + setting.zh_noun
    else:
        zh = f"{light.zh}的画面" if light else ""
    if shot:
        zh = f"{shot.zh}：{zh}" if zh else f"{shot.zh}画面"
    return _sentence(en), zh + "。"


_SOMEONE = Phrase("someone", "someone", "有人", ())

FOOTAGE = Grammar(
    name="footage",
    slots=(Slot("shot", SHOT_SIZES), Slot("subject", SUBJECTS), Slot("action", ACTIONS), Slot("setting", SETTINGS),
           Slot("light", LIGHT)),
    pooling="mean",
    render=_render_footage,
    resolve=_resolve_footage,
)

GRAMMARS = (FOOTAGE, TEST_PATTERN)


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:] + ("" if text.endswith(".") else ".")


def grammar_for(knows_words: Callable[[str], bool]) -> Grammar:
    """The real-footage grammar for a model that knows most of its prompts' words (any real CLIP
    model), else the test-pattern one (the demo model, trained on its world's words only)."""
    prompts = FOOTAGE.prompts()
    return FOOTAGE if sum(map(knows_words, prompts)) >= len(prompts) / 2 else TEST_PATTERN


# --------------------------------------------------------------------------------------------
# Scoring
# --------------------------------------------------------------------------------------------

class Describer:
    """Describes shots from their frames' image vectors with one grammar and one model's text vectors."""

    def __init__(self, *, grammar: Grammar, encode_texts: Callable[[list[str]], np.ndarray], logit_scale: float,
                 floor: float, min_odds: float = DEFAULT_MIN_ODDS):
        if min_odds < 1:
            raise ValueError(f"min_odds is how many times likelier the best phrase must be than the runner-up; "
                             f"it must be at least 1, not {min_odds}.")
        self.grammar, self.floor = grammar, float(floor)
        self.min_margin = math.log(min_odds) / float(logit_scale)  # odds at the logit scale, as a cosine margin
        prompts = grammar.prompts()
        vectors = np.asarray(encode_texts(prompts), dtype=np.float32)
        if vectors.shape[0] != len(prompts):
            raise ValueError(f"encode_texts returned {vectors.shape[0]} vectors for {len(prompts)} prompts.")
        self.dim = vectors.shape[1]
        row = {prompt: i for i, prompt in enumerate(prompts)}
        self._prompt_vectors = vectors
        self._slots = [(slot, [[row[p] for p in phrase.prompts] for phrase in slot.phrases]) for slot in grammar.slots]
        if grammar.pooling == "mean":
            self._phrase_vectors = [self._mean_vectors(rows) for _, rows in self._slots]
        elif grammar.pooling != "max":
            raise ValueError(f"pooling must be 'mean' or 'max', not {grammar.pooling!r}.")

    @classmethod
    def for_model(cls, model, *, encode_texts: Callable[[list[str]], np.ndarray] | None = None,
                  floor: float | None = None, min_odds: float = DEFAULT_MIN_ODDS) -> "Describer":
        """A describer for a workers.ml.clip.ClipModel: its grammar, logit scale and tag floor
        (pass `floor` to use a library's measured one, `encode_texts` to read stored text vectors)."""
        return cls(grammar=grammar_for(model.knows_words_of), encode_texts=encode_texts or model.embed_texts,
                   logit_scale=model.logit_scale, floor=model.calibration.tag_floor if floor is None else floor,
                   min_odds=min_odds)

    def _mean_vectors(self, rows: list[list[int]]) -> np.ndarray:
        means = np.stack([self._prompt_vectors[r].mean(axis=0) for r in rows])
        return means / np.linalg.norm(means, axis=1, keepdims=True)

    def phrase_scores(self, image_vectors: np.ndarray) -> dict[str, np.ndarray]:
        """Slot name -> cosine of each of its phrases (in table order) with the shot's vector."""
        shot = shot_vector(image_vectors, self.dim)
        if self.grammar.pooling == "mean":
            return {slot.name: vectors @ shot for (slot, _), vectors in zip(self._slots, self._phrase_vectors)}
        similarities = self._prompt_vectors @ shot
        return {slot.name: np.array([similarities[r].max() for r in rows]) for slot, rows in self._slots}

    def describe(self, image_vectors: np.ndarray) -> Description:
        """The description of a shot whose sampled frames have these (n, dim) image vectors."""
        filled: dict[str, Phrase] = {}
        scores: dict[str, float] = {}
        for (slot, _), cosines in zip(self._slots, self.phrase_scores(image_vectors).values()):
            order = np.argsort(cosines)[::-1]
            best = float(cosines[order[0]])
            runner_up = float(cosines[order[1]]) if len(order) > 1 else -1.0
            if best >= self.floor and best - runner_up >= self.min_margin:
                filled[slot.name] = slot.phrases[order[0]]
                scores[slot.name] = round(best, 4)
        filled = self.grammar.resolve(filled)
        en, zh = self.grammar.render(filled)
        return Description(en=en, zh=zh, slots={name: phrase.key for name, phrase in filled.items()},
                           scores={name: scores[name] for name in filled})


def shot_vector(image_vectors: np.ndarray, dim: int) -> np.ndarray:
    """The shot's vector: its frames' (n, dim) image vectors averaged and renormalised."""
    vectors = np.asarray(image_vectors, dtype=np.float32)
    if vectors.ndim == 1:
        vectors = vectors[None, :]
    if vectors.ndim != 2 or vectors.shape[0] == 0 or vectors.shape[1] != dim:
        raise ValueError(f"A shot needs at least one image vector of size {dim} (this model's); "
                         f"got an array of shape {vectors.shape}.")
    mean = vectors.mean(axis=0)
    norm = float(np.linalg.norm(mean))
    if not norm > 0:
        raise ValueError("The shot's image vectors cancel out (their mean is zero); they are not CLIP image vectors.")
    return mean / norm
