"""The bundled offline "demo" CLIP model for the test-pattern world.

An open_clip ``CLIP`` (ModifiedResNet image tower, 48 px; small transformer
text tower with open_clip's default BPE tokenizer, context 48) trained by
``python -m workers.ml.demo.train`` on images of the world in ``world.py``
(CONTRACT.md section 5), loaded through open_clip's ordinary code path::

    from workers.ml import demo
    demo.register()                      # in every process, before both calls below
    model, _, preprocess = open_clip.create_model_and_transforms(
        demo.MODEL_NAME, pretrained=str(demo.CHECKPOINT_PATH))
    model.eval()                         # BatchNorm in the image tower!
    tokenizer = open_clip.get_tokenizer(demo.MODEL_NAME)   # context 48

``META_PATH`` holds training facts and ``tag_min_similarity``, a cosine
similarity floor for tagging calibrated on held-out images.
"""

from pathlib import Path

MODEL_NAME = "mediahub-demo"
HERE = Path(__file__).resolve().parent
CONFIG_PATH = HERE / "mediahub-demo.json"
CHECKPOINT_PATH = HERE / "mediahub-demo.safetensors"
META_PATH = HERE / "mediahub-demo.meta.json"

_registered = False


def register() -> None:
    """Make ``MODEL_NAME`` known to open_clip (idempotent).

    Needed in every process before ``open_clip.create_model_and_transforms``
    *and* before ``open_clip.get_tokenizer``: for an unknown name the
    tokenizer silently falls back to context 77 and ``encode_text`` fails.
    """
    global _registered
    import open_clip

    if _registered and MODEL_NAME in open_clip.list_models():
        return
    if MODEL_NAME not in open_clip.list_models():
        open_clip.add_model_config(CONFIG_PATH)
    _registered = True


def load_meta() -> dict:
    """The training facts written next to the checkpoint ({} if missing)."""
    import json

    try:
        return json.loads(META_PATH.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}


def trained_words() -> frozenset[str]:
    """Every word (Chinese: character) of the captions the demo model was trained on."""
    from workers.ml.clip import query_words
    from workers.ml.demo import world

    return frozenset(word for shape, colour, background in world.combinations() for lang in world.LANGS
                     for caption in world.captions(shape, colour, background, lang) for word in query_words(caption))
