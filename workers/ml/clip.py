"""CLIP models through open_clip: one loader for real and demo models.

A model loads lazily, once per process, behind a lock, on the device chosen
by `choose_device`; inference runs in batches under `torch.inference_mode()`
and every vector comes back L2-normalised as float32 numpy.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import logging
import re
import threading
import time
from pathlib import Path
from typing import Sequence

import numpy as np

logger = logging.getLogger(__name__)

DEMO = "demo"
RANDOM_WEIGHTS = "random"  # pretrained value for untrained weights (benchmarks only)
FAILURE_MEMORY_SECONDS = 300  # don't retry a failed download for every asset


@dataclasses.dataclass(frozen=True)
class Calibration:
    """How a model's cosine similarities read, for ranking and tagging."""

    match_floor: float  # a second scoring below this does not match a query well
    spread: float  # typical gap between a matching and a non-matching second
    feedback_radius: float  # queries whose vectors are closer than this (cosine) share feedback
    tag_floor: float  # a frame needs this similarity to a label to be tagged with it
    shot_continuity: float  # consecutive seconds whose frames are at least this similar are one shot
    measured: bool = False  # measured on this library (manage.py calibrate), not a default


# Published CLIP models put matching image-text pairs around 0.25-0.35 cosine and
# unrelated ones around 0.1-0.2; paraphrases of a query stay above ~0.85; frames a
# second apart in one shot stay above ~0.85, while a cut usually drops below it.
REAL_CLIP_CALIBRATION = Calibration(match_floor=0.22, spread=0.08, feedback_radius=0.85, tag_floor=0.2,
                                    shot_continuity=0.85)


_WORD = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]|[^\W\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")


def query_words(text: str) -> list[str]:
    """The words of a text, lowercased; each Chinese or Japanese character counts as one."""
    return _WORD.findall(text.lower())


class ModelUnavailable(Exception):
    """The configured model can't be loaded; the message says why and what to do."""


def choose_device(requested: str = "auto") -> str:
    import torch

    if requested and requested != "auto":
        return requested
    return "cuda" if torch.cuda.is_available() else "cpu"


def _file_digest(path: Path) -> str:
    """The checkpoint's content digest, computed once per process (per file version: a replaced
    file has another size or modification time and is hashed again)."""
    stat = path.stat()
    return _file_digest_of(str(path.resolve()), stat.st_size, stat.st_mtime_ns)


@functools.lru_cache(maxsize=32)
def _file_digest_of(path: str, size: int, mtime_ns: int) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()[:16]


@dataclasses.dataclass(frozen=True)
class ClipSpec:
    """Which model to run: an open_clip name (or "demo") and weights (a tag, a file, or "random")."""

    name: str
    pretrained: str
    device: str = "auto"
    cache_dir: str | None = None

    @property
    def is_demo(self) -> bool:
        return self.name == DEMO

    @property
    def open_clip_name(self) -> str:
        from workers.ml import demo

        return demo.MODEL_NAME if self.is_demo else self.name

    @property
    def weights(self) -> str | None:
        """What open_clip's `pretrained=` gets: a tag, a file path, or None for random init."""
        from workers.ml import demo

        if self.is_demo:
            return str(demo.CHECKPOINT_PATH)
        return None if self.pretrained in ("", RANDOM_WEIGHTS) else self.pretrained

    @property
    def key(self) -> str:
        """A stable identity of model + weights: vectors are only compared within one key."""
        weights = self.weights
        if weights is None:
            return f"{self.open_clip_name}@{RANDOM_WEIGHTS}"
        if Path(weights).is_file():
            return f"{self.open_clip_name}@file:{_file_digest(Path(weights))}"
        return f"{self.open_clip_name}@{weights}"

    def embed_dim(self) -> int:
        """The vector size, from the model config (no weights loaded)."""
        import open_clip

        self._register()
        config = open_clip.get_model_config(self.open_clip_name)
        if config is None:
            raise ModelUnavailable(f"open_clip has no model named {self.name!r}; see open_clip.list_models() for the names it knows.")
        return int(config["embed_dim"])

    def _register(self) -> None:
        if self.is_demo:
            from workers.ml import demo

            demo.register()


class ClipModel:
    def __init__(self, spec: ClipSpec):
        import open_clip
        import torch

        self.spec = spec
        self.device = choose_device(spec.device)
        spec._register()
        model, _, preprocess = open_clip.create_model_and_transforms(
            spec.open_clip_name, pretrained=spec.weights, device=self.device,
            cache_dir=spec.cache_dir, load_weights=spec.weights is not None,
        )
        model.eval()  # BatchNorm in ResNet towers must not use batch statistics
        self.model = model
        self.preprocess = preprocess
        self.tokenizer = open_clip.get_tokenizer(spec.open_clip_name)
        self.dim = spec.embed_dim()
        self.logit_scale = float(model.logit_scale.exp().item())
        self.calibration = self._calibration()
        self._known_words = self._trained_words()
        self._torch = torch

    def _trained_words(self) -> frozenset[str] | None:
        """The words the model was trained on, where that is known (the demo model's closed world)."""
        if self.spec.is_demo:
            from workers.ml import demo

            return demo.trained_words()
        return None

    def knows_words_of(self, text: str) -> bool:
        """False when most of the text's words are ones the model never learned: it embeds those
        as noise (the demo model reads "天气预报" as an orange shape), so no score can be trusted.
        Always True for models whose training vocabulary is open-ended (real CLIP models)."""
        words = query_words(text)
        if self._known_words is None or not words:
            return True
        return sum(word in self._known_words for word in words) > len(words) / 2

    def _calibration(self) -> Calibration:
        """The demo model's figures were measured on its world (see workers/ml/demo/calibrate.py)."""
        if self.spec.is_demo:
            from workers.ml import demo

            measured = demo.load_meta().get("calibration") or {}
            missing = [f.name for f in dataclasses.fields(Calibration) if f.name not in measured and f.name != "measured"]
            if missing:
                logger.warning("the demo model's calibration lacks %s: run python -m workers.ml.demo.calibrate",
                               ", ".join(missing))
            return dataclasses.replace(REAL_CLIP_CALIBRATION, **measured)
        return REAL_CLIP_CALIBRATION

    def embed_images(self, images: Sequence, batch_size: int = 32) -> np.ndarray:
        """L2-normalised vectors for PIL images, shape (len(images), dim)."""
        outputs = []
        with self._torch.inference_mode():
            for start in range(0, len(images), batch_size):
                batch = self._torch.stack([self.preprocess(img) for img in images[start:start + batch_size]])
                features = self.model.encode_image(batch.to(self.device), normalize=True)
                outputs.append(features.float().cpu().numpy())
        return np.concatenate(outputs) if outputs else np.zeros((0, self.dim), np.float32)

    def embed_texts(self, texts: Sequence[str], batch_size: int = 256, threads: int | None = None) -> np.ndarray:
        """L2-normalised vectors for texts, shape (len(texts), dim). `threads`: the torch threads to
        encode on (the process's setting is restored after); None keeps the process's."""
        outputs = []
        previous_threads = self._torch.get_num_threads()
        if threads is not None:
            self._torch.set_num_threads(threads)
        try:
            with self._torch.inference_mode():
                for start in range(0, len(texts), batch_size):
                    tokens = self.tokenizer(list(texts[start:start + batch_size])).to(self.device)
                    outputs.append(encode_text_unpadded(self.model, tokens).float().cpu().numpy())
        finally:
            if threads is not None:
                self._torch.set_num_threads(previous_threads)
        return np.concatenate(outputs) if outputs else np.zeros((0, self.dim), np.float32)


def encode_text_unpadded(model, tokens):
    """`model.encode_text(tokens, normalize=True)` run only up to the end of the batch's longest text.

    open_clip pads every text to the context length (77 tokens) and runs the text tower over all of
    it, while a query or a brief's beat is 10-20 tokens: the padding is most of the cost of encoding.
    Cutting it off changes no vector beyond float rounding: CLIP's own text tower is causal and takes
    its features at the end-of-text token (the highest id, so positions after it never reach it), and
    Hugging Face towers (the default multilingual model's XLM-RoBERTa) mask the padding out of
    attention and pooling. Other towers are run whole."""
    import torch.nn.functional as F
    from open_clip.hf_model import HFTextEncoder
    from open_clip.model import CLIP
    from open_clip.transformer import text_global_pool
    from torch import nn

    if isinstance(model, CLIP) and model.text_pool_type == "argmax" and model.attn_mask is not None:
        length = int(tokens.argmax(dim=-1).max()) + 1
        tokens = tokens[:, :length]
        cast_dtype = model.transformer.get_cast_dtype()
        x = model.token_embedding(tokens).to(cast_dtype) + model.positional_embedding[:length].to(cast_dtype)
        x = model.ln_final(model.transformer(x, attn_mask=model.attn_mask[:length, :length]))
        x = text_global_pool(x, tokens, "argmax")
        x = model.text_projection(x) if isinstance(model.text_projection, nn.Linear) else x @ model.text_projection
        return F.normalize(x, dim=-1)
    text_tower = getattr(model, "text", None)
    if isinstance(text_tower, HFTextEncoder) and text_tower.config.pad_token_id is not None:
        used = (tokens != text_tower.config.pad_token_id).any(dim=0).nonzero()
        if len(used):
            tokens = tokens[:, :int(used.max()) + 1]
    return model.encode_text(tokens, normalize=True)


_loaded: dict[ClipSpec, ClipModel] = {}
_loading: set[ClipSpec] = set()
_failures: dict[ClipSpec, tuple[float, str]] = {}
_lock = threading.Lock()


def load_clip(spec: ClipSpec) -> ClipModel:
    """The model for `spec`, loaded once per process; ModelUnavailable if it can't be had.
    A caller arriving while another thread loads it waits for that load (the lock)."""
    _loading.add(spec)
    try:
        with _lock:
            return _load_locked(spec)
    finally:
        _loading.discard(spec)


def _load_locked(spec: ClipSpec) -> ClipModel:
    if spec in _loaded:
        return _loaded[spec]
    if spec in _failures:
        failed_at, reason = _failures[spec]
        if time.monotonic() - failed_at < FAILURE_MEMORY_SECONDS:
            raise ModelUnavailable(reason)
    started = time.monotonic()
    try:
        model = ClipModel(spec)
    except ModelUnavailable as exc:
        _failures[spec] = (time.monotonic(), str(exc))
        raise
    except Exception as exc:  # noqa: BLE001 - any loading failure is reported the same way
        reason = _unavailable_reason(spec, exc)
        _failures[spec] = (time.monotonic(), reason)
        raise ModelUnavailable(reason) from exc
    logger.info("loaded CLIP %s on %s in %.1fs", spec.key, model.device, time.monotonic() - started)
    _loaded[spec] = model
    return model


def clip_state(spec: ClipSpec) -> str:
    """Whether this process has the model: "loaded", "loading", "unavailable" (its last load failed) or
    "not_loaded" (nothing asked for it yet)."""
    if spec in _loaded:
        return "loaded"
    if spec in _loading:
        return "loading"
    return "unavailable" if spec in _failures else "not_loaded"


OFFLINE_SIGNS = ("connect", "cached files", "local cache", "failed to download", "offline", "internet",
                 "couldn't find", "name or service not known", "network is unreachable")


def _unavailable_reason(spec: ClipSpec, exc: Exception) -> str:
    cause = " ".join(str(exc).split()) or exc.__class__.__name__
    if len(cause) > 300:
        cause = cause[:300].rsplit(". ", 1)[0] + " …"
    tokenizer = _hf_tokenizer_name(spec)
    if any(sign in cause.lower() for sign in OFFLINE_SIGNS):
        files = f"its weights ({spec.pretrained})" + (
            f" and the Hugging Face tokenizer and config files of {tokenizer}" if tokenizer else "")
        return (
            f"The CLIP model {spec.name} can't be loaded: {files} are not in the data dir's model cache "
            f"({spec.cache_dir or 'the default cache'}) and the model hub can't be reached ({cause}). "
            "Connect this machine to the internet once and reprocess (they are downloaded once, then work offline), "
            "or copy the models folder of a data dir that has them, or set MEDIAHUB_CLIP_PRETRAINED to a local "
            "checkpoint file, or MEDIAHUB_CLIP_MODEL=demo for the bundled test-pattern model."
        )
    return (
        f"The CLIP model {spec.name} with weights {spec.pretrained!r} could not be loaded ({cause}). "
        "Weights are downloaded once into the data dir and need network access; offline, set "
        "MEDIAHUB_CLIP_PRETRAINED to a local checkpoint file (or MEDIAHUB_CLIP_MODEL=demo), then reprocess."
    )


def _hf_tokenizer_name(spec: ClipSpec) -> str | None:
    """The Hugging Face tokenizer a model's text tower needs (multilingual models), if any."""
    try:
        import open_clip

        config = open_clip.get_model_config(spec.open_clip_name) or {}
    except Exception:  # noqa: BLE001 - only used to word a message
        return None
    return config.get("text_cfg", {}).get("hf_tokenizer_name")
