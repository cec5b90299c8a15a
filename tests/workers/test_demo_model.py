"""The bundled demo CLIP model (workers/ml/demo): loads through open_clip's
ordinary code path and understands the test-pattern world (CONTRACT.md s. 5).

No Django: the model, its registered config and the world generator only.
"""

import json

import numpy as np
import pytest
from PIL import Image

torch = pytest.importorskip("torch")
open_clip = pytest.importorskip("open_clip")

from workers.ml import demo  # noqa: E402
from workers.ml.demo import world  # noqa: E402

QUERIES = [
    # (query, attributes it pins down: shape, colour of the shape, background)
    ("a red circle", ("circle", "red", None)),
    ("red circle", ("circle", "red", None)),
    ("a red circle on a blue background", ("circle", "red", "blue")),
    ("circle", ("circle", None, None)),
    ("something red", (None, "red", None)),
    ("红色圆形", ("circle", "red", None)),
    ("蓝色背景上的红色圆形", ("circle", "red", "blue")),
    ("圆形", ("circle", None, None)),
    ("红色的东西", (None, "red", None)),
    ("a green star", ("star", "green", None)),
    ("黄色菱形", ("diamond", "yellow", None)),
]


def _relevant(spec, attrs):
    return all(want is None or want == have for want, have in zip(spec, attrs))


@pytest.fixture(scope="module")
def clip():
    if not demo.CHECKPOINT_PATH.exists():
        pytest.fail(f"missing checkpoint {demo.CHECKPOINT_PATH}; "
                    "train it: python -m workers.ml.demo.train")
    torch.set_num_threads(2)
    demo.register()
    demo.register()  # idempotent
    model, _, preprocess = open_clip.create_model_and_transforms(
        demo.MODEL_NAME, pretrained=str(demo.CHECKPOINT_PATH))
    model.eval()
    tokenizer = open_clip.get_tokenizer(demo.MODEL_NAME)
    return model, preprocess, tokenizer


def _encode_images(clip, pils):
    model, preprocess, _ = clip
    with torch.no_grad():
        x = torch.stack([preprocess(p) for p in pils])
        return model.encode_image(x, normalize=True)


def _encode_texts(clip, texts):
    model, _, tokenizer = clip
    with torch.no_grad():
        return model.encode_text(tokenizer(texts), normalize=True)


@pytest.fixture(scope="module")
def gallery(clip):
    """~100 frames at 320x240 and 640x360, with enough relevant and
    confusable items for every query: red circles on blue and elsewhere,
    red non-circles, circles of other colours, blue circles on red..."""
    rng = np.random.default_rng(20240601)
    others = [c for c in world.COLOURS if c != "red"]
    wanted = []
    wanted += [("circle", "red", "blue")] * 6
    wanted += [("circle", "red", b) for b in rng.choice([c for c in others if c != "blue"], 6)]
    wanted += [(s, "red", str(rng.choice(others))) for s in rng.choice(world.SHAPES[1:], 8)]
    wanted += [("circle", str(c), None) for c in rng.choice(others, 8)]
    wanted += [("circle", "blue", "red")] * 4
    wanted += [("star", "green", None)] * 5 + [("diamond", "yellow", None)] * 5
    wanted += [(None, None, None)] * (100 - len(wanted))
    pils, attrs = [], []
    for k, (s, c, b) in enumerate(wanted):
        sc = world.random_scene(rng, shape=s, colour=c, background=b)
        w, h = (320, 240) if k % 2 == 0 else (640, 360)
        t = float(rng.uniform(0, sc.duration))
        pils.append(Image.fromarray(world.render_frame(sc, t, width=w, height=h)))
        attrs.append((sc.shape, sc.colour, sc.background))
    return _encode_images(clip, pils), attrs


def test_config_and_checkpoint():
    cfg = json.loads(demo.CONFIG_PATH.read_text())
    assert cfg["text_cfg"]["context_length"] == 48
    assert cfg["vision_cfg"]["layers"] == [1, 1, 1, 1]
    assert demo.CHECKPOINT_PATH.stat().st_size < 20 * 2**20
    from safetensors.torch import load_file

    sd = load_file(str(demo.CHECKPOINT_PATH))
    assert all(v.dtype == torch.float16 for v in sd.values() if v.is_floating_point())
    assert any(not v.is_floating_point() for v in sd.values())  # BatchNorm counters
    meta = json.loads(demo.META_PATH.read_text())
    assert 0.0 < meta["tag_min_similarity"] < 1.0
    assert meta["logit_scale"] > 1.0


def test_registered_tokenizer_has_context_48(clip):
    _, _, tokenizer = clip
    assert tokenizer.context_length == 48
    # the longest Chinese full caption fits without truncation
    longest = max((world.full_caption(*k, "zh") for k in world.combinations()),
                  key=lambda t: int((tokenizer([t])[0] != 0).sum()))
    assert int((tokenizer([longest])[0] != 0).sum()) < 48
    assert demo.MODEL_NAME in open_clip.list_models()


def test_preprocess_is_open_clips_48px(clip):
    _, preprocess, _ = clip
    x = preprocess(Image.new("RGB", (640, 360)))
    assert tuple(x.shape) == (3, 48, 48)


@pytest.mark.parametrize("query,spec", QUERIES, ids=[q for q, _ in QUERIES])
def test_retrieval_top5_all_relevant(clip, gallery, query, spec):
    g_emb, attrs = gallery
    n_rel = sum(_relevant(spec, a) for a in attrs)
    assert n_rel >= 5
    q = _encode_texts(clip, [query])[0]
    sims = g_emb @ q
    top = torch.topk(sims, 5).indices.tolist()
    got = [attrs[i] for i in top]
    assert all(_relevant(spec, a) for a in got), (query, got)
    # and every relevant item ranks above most irrelevant ones
    rel = torch.tensor([_relevant(spec, a) for a in attrs])
    assert sims[rel].median() > sims[~rel].quantile(0.95), query


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_full_caption_top1(clip, lang):
    rng = np.random.default_rng({"en": 11, "zh": 12}[lang])
    combos = list(world.combinations())
    pick = rng.choice(len(combos), 80, replace=False)
    pils = []
    for k, i in enumerate(pick):
        s, c, b = combos[i]
        sc = world.random_scene(rng, shape=s, colour=c, background=b)
        w, h = (320, 240) if k % 2 else (640, 360)
        pils.append(Image.fromarray(world.render_frame(sc, sc.duration / 3, width=w, height=h)))
    img = _encode_images(clip, pils)
    txt = _encode_texts(clip, [world.full_caption(*k, lang) for k in combos])
    pred = (img @ txt.T).argmax(1).tolist()
    acc = float(np.mean([p == i for p, i in zip(pred, pick)]))
    assert acc >= 0.93, acc


def test_frames_from_h264_video(clip, tmp_path):
    av = pytest.importorskip("av")
    from workers.ml.demo.video import write_world_video

    rng = np.random.default_rng(77)
    scenes = [world.random_scene(rng, duration=2.0) for _ in range(8)]
    path = tmp_path / "v.mp4"
    truth = write_world_video(path, scenes, fps=10, width=320, height=240)
    mids = [(s + e) / 2 for s, e, _ in truth]
    pils, k = [], 0
    with av.open(str(path)) as container:
        for frame in container.decode(video=0):
            if k < len(mids) and frame.time >= mids[k]:
                pils.append(frame.to_image())
                k += 1
    assert len(pils) == len(scenes)
    img = _encode_images(clip, pils)
    combos = list(world.combinations())
    txt = _encode_texts(clip, [world.full_caption(*c, "en") for c in combos])
    pred = [combos[i] for i in (img @ txt.T).argmax(1).tolist()]
    truth_attrs = [(s.shape, s.colour, s.background) for s in scenes]
    assert sum(p == t for p, t in zip(pred, truth_attrs)) >= 7, (pred, truth_attrs)


def test_model_is_not_trivial(clip):
    """Different captions must give different embeddings, and a caption's
    English and Chinese forms must mean the same image."""
    en = _encode_texts(clip, ["a red circle", "a blue square", "something green"])
    zh = _encode_texts(clip, ["红色圆形", "蓝色正方形", "绿色的东西"])
    assert float(en[0] @ en[1]) < 0.9
    sims = zh @ en.T
    assert sims.argmax(1).tolist() == [0, 1, 2]


def test_tag_floor_separates_partial_captions(clip, gallery):
    meta = json.loads(demo.META_PATH.read_text())
    floor = meta["tag_min_similarity"]
    g_emb, attrs = gallery
    q = _encode_texts(clip, ["circle", "something red", "圆形", "红色的东西"])
    specs = [("circle", None, None), (None, "red", None)] * 2
    sims = (g_emb @ q.T).numpy()
    rel = np.array([[_relevant(s, a) for s in specs] for a in attrs])
    assert (sims[rel] >= floor).mean() > 0.9
    assert (sims[~rel] < floor).mean() > 0.9
