"""Shot descriptions by a learned captioner: a small decoder that writes a sentence from a CLIP vector.

The method is DeCap (Li et al., ICLR 2023), trained from text alone:

- Training: every caption of a corpus is embedded by the CLIP *text* tower (L2-normalised); a
  small decoder learns to write the caption back from that vector, given as a one-token prefix
  (a linear map of the vector), followed by a language token (`<en>` or `<zh>`).
- Inference: an image vector is not a text vector (CLIP's "modality gap"), so it is first
  projected onto the span of the corpus's caption vectors, the *memory*: a softmax-weighted sum of
  the memory's vectors, weighted by their cosine with the image vector over a temperature (DeCap
  uses 1/100, CLIP's logit scale), renormalised; the decoder writes from that.

One decoder serves both languages: a corpus line is English or Chinese (by script), the memory
keeps each language's caption vectors apart, and a Chinese sentence is decoded from the
projection onto the Chinese memory with the `<zh>` token. Nothing needs parallel captions, so any
caption corpus of either language (or both) trains one.

Footage far from everything the corpus says is not captioned: when the image vector's best
cosine with a language's memory is below the captioner's floor, the sentence is neutral
("Footage." / "画面。", as the grammar's), since the decoder would otherwise write the nearest
caption it knows, however wrong (the demo captioner would call a news clip a coloured shape).

Saved as a safetensors file (decoder weights and the memory, fp16) and a JSON file beside it
(vocabulary, sizes, temperature, floor, and the key of the CLIP model whose vectors it reads).
Loading is lazy, once per process, behind a lock. No Django: vectors in, sentences out.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import math
import re
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from workers.ml.describe import NEUTRAL, Description, shot_vector

logger = logging.getLogger(__name__)

LANGS = ("en", "zh")
PAD, UNK, EOS = "<pad>", "<unk>", "<eos>"
SPECIALS = (PAD, UNK, EOS, "<en>", "<zh>")
FORMAT_VERSION = 1
DEFAULT_BEAM = 1  # greedy, as DeCap; beam 3 measured no better on the demo world (README)
BUNDLED_DEMO_PATH = Path(__file__).resolve().parent / "demo" / "mediahub-demo-captioner.safetensors"
CAPTIONERS_DIR = "captioners"  # under the data dir: captioners/<model key>/captioner.safetensors
FILE_NAME = "captioner.safetensors"

_CJK = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_HAS_CJK = re.compile(f"[{_CJK}]")
# A Chinese (or Japanese) character, an English word (with inner apostrophes or hyphens), a number,
# or one punctuation mark.
_TOKEN = re.compile(rf"[{_CJK}]|[^\W{_CJK}]+(?:['’-][^\W{_CJK}]+)*|[^\w\s]")
_FINAL_STOP = re.compile(r"[\s.。!！?？]+$")


class CaptionerUnavailable(Exception):
    """A captioner can't be loaded; the message says why and what to do."""


# --------------------------------------------------------------------------------------------
# Text
# --------------------------------------------------------------------------------------------

def language_of(text: str) -> str:
    """"zh" for a line with any Chinese character in it, else "en"."""
    return "zh" if _HAS_CJK.search(text) else "en"


def tokenize(text: str) -> list[str]:
    """Lowercased words and punctuation; each Chinese character is a token of its own. The final
    stop is dropped (every sentence gets one back when it is written)."""
    return _TOKEN.findall(_FINAL_STOP.sub("", text.strip()).lower())


def detokenize(tokens: Sequence[str], lang: str) -> str:
    """A sentence from tokens: English words spaced, punctuation attached, capitalised, with a final
    stop; Chinese characters joined (a space only between two Latin words), with "。"."""
    text = ""
    for token in tokens:
        if not text:
            text = token
        elif lang == "zh":
            text += (" " if text[-1].isascii() and text[-1].isalnum() and token[0].isascii() and token[0].isalnum()
                     else "") + token
        else:
            text += token if re.fullmatch(r"[^\w\s(\[“\"']", token) else " " + token
    if not text:
        return ""
    if lang == "zh":
        return text + "。"
    return text[:1].upper() + text[1:] + "."


# --------------------------------------------------------------------------------------------
# The decoder
# --------------------------------------------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class DecoderConfig:
    clip_dim: int
    vocab_size: int
    width: int = 128
    layers: int = 3
    heads: int = 4
    max_tokens: int = 32  # longest caption, in tokens, without the language token and the end


def _decoder(config: DecoderConfig):
    """The decoder network (built here so that importing this module doesn't import torch)."""
    import torch
    from torch import nn

    class CaptionDecoder(nn.Module):
        """A small GPT: [prefix, language, token...] -> next tokens, causal self-attention, the
        output layer tied to the token embedding."""

        def __init__(self):
            super().__init__()
            self.prefix = nn.Linear(config.clip_dim, config.width)  # DeCap's map: one linear layer, one token
            self.tokens = nn.Embedding(config.vocab_size, config.width)
            nn.init.normal_(self.tokens.weight, std=0.02)  # tied to the output: N(0, 1) logits would be huge
            self.positions = nn.Parameter(torch.randn(config.max_tokens + 3, config.width) * 0.02)
            layer = nn.TransformerEncoderLayer(config.width, config.heads, 4 * config.width, dropout=0.1,
                                               activation="gelu", batch_first=True, norm_first=True)
            self.blocks = nn.TransformerEncoder(layer, config.layers, enable_nested_tensor=False)
            self.norm = nn.LayerNorm(config.width)

        def forward(self, clip_vectors, tokens):
            """Logits (B, T, vocab) for the token after each of `tokens` (B, T; the first is the
            language token), given the prefix vectors (B, clip_dim)."""
            x = torch.cat([self.prefix(clip_vectors)[:, None, :], self.tokens(tokens)], dim=1)
            x = x + self.positions[: x.shape[1]]
            mask = nn.Transformer.generate_square_subsequent_mask(x.shape[1], device=x.device)
            h = self.norm(self.blocks(x, mask=mask, is_causal=True))
            return h[:, 1:] @ self.tokens.weight.T

    return CaptionDecoder()


# --------------------------------------------------------------------------------------------
# The captioner
# --------------------------------------------------------------------------------------------

class Captioner:
    """Describes shots from their frames' image vectors, in English and Chinese (see the module doc)."""

    def __init__(self, *, decoder, config: DecoderConfig, vocab: list[str], memory: dict[str, np.ndarray],
                 clip_key: str, temperature: float, floor: float, beam: int = DEFAULT_BEAM, facts: dict | None = None):
        import torch

        if temperature <= 0:
            raise ValueError(f"The temperature must be above 0, not {temperature}.")
        self.decoder, self.config, self.vocab = decoder.eval(), config, list(vocab)
        self.index = {token: i for i, token in enumerate(self.vocab)}
        self.memory = {lang: np.asarray(vectors, dtype=np.float32) for lang, vectors in memory.items() if len(vectors)}
        self.clip_key, self.temperature, self.floor, self.beam = clip_key, float(temperature), float(floor), int(beam)
        self.facts = dict(facts or {})
        self._never = [self.index[t] for t in (PAD, "<en>", "<zh>")]  # tokens a sentence never contains
        self._torch = torch

    @property
    def dim(self) -> int:
        return self.config.clip_dim

    # --- inference -----------------------------------------------------------------------------

    def describe(self, image_vectors: np.ndarray) -> Description:
        """The description of a shot whose sampled frames have these (n, dim) image vectors
        (averaged and renormalised, as the grammar does). `scores` holds, per language, the best
        cosine between the shot and the memory's captions; `slots` stays empty."""
        shot = shot_vector(image_vectors, self.dim)
        sentences, scores, wanted = dict(zip(LANGS, NEUTRAL)), {}, []
        for lang in LANGS:
            projected, similarity = self.project(shot, lang)
            if similarity is not None:
                scores[f"similarity_{lang}"] = round(similarity, 4)
            if projected is not None and similarity >= self.floor:
                wanted.append((projected, lang))
        for (_, lang), tokens in zip(wanted, self.decode_many(wanted)):
            sentences[lang] = detokenize(tokens, lang) or sentences[lang]
        return Description(en=sentences["en"], zh=sentences["zh"], slots={}, scores=scores)

    def caption(self, vector: np.ndarray, lang: str) -> tuple[str, float | None]:
        """(sentence, best cosine with the memory) for one normalised vector; the sentence is ""
        when the vector is below the floor or the corpus had no caption of this language."""
        projected, similarity = self.project(vector, lang)
        if projected is None or similarity < self.floor:
            return "", similarity
        return detokenize(self.decode_many([(projected, lang)])[0], lang), similarity

    def decode_many(self, prefixes: Sequence[tuple[np.ndarray, str]]) -> list[list[str]]:
        """Tokens for each (prefix vector, language): greedy in one batch at beam 1, else a beam each.
        Runs on one torch thread: the matrices are tiny, and a second thread only adds waiting (on a
        busy 2-core machine 2 threads took 2.1 s a shot, 1 thread 0.09 s)."""
        if not prefixes:
            return []
        threads = self._torch.get_num_threads()
        self._torch.set_num_threads(1)
        try:
            if self.beam == 1:
                return self._greedy(prefixes)
            return [self.decode(prefix, lang) for prefix, lang in prefixes]
        finally:
            self._torch.set_num_threads(threads)

    def _greedy(self, prefixes: Sequence[tuple[np.ndarray, str]]) -> list[list[str]]:
        torch = self._torch
        eos = self.index[EOS]
        with torch.inference_mode():
            vectors = torch.as_tensor(np.stack([np.asarray(p, dtype=np.float32) for p, _ in prefixes]))
            tokens = torch.tensor([[self.index[f"<{lang}>"]] for _, lang in prefixes])
            done = torch.zeros(len(prefixes), dtype=torch.bool)
            for _ in range(self.config.max_tokens + 1):
                logits = self.decoder(vectors, tokens)[:, -1]
                logits[:, self._never] = -math.inf
                following = torch.where(done, eos, logits.argmax(dim=-1))
                tokens = torch.cat([tokens, following[:, None]], dim=1)
                done |= following == eos
                if bool(done.all()):
                    break
        out = []
        for row in tokens[:, 1:].tolist():
            row = row[:row.index(eos)] if eos in row else row
            out.append([self.vocab[i] for i in row])
        return out

    def project(self, vector: np.ndarray, lang: str) -> tuple[np.ndarray | None, float | None]:
        """DeCap's projection onto the span of the language's caption vectors, and the best cosine."""
        memory = self.memory.get(lang)
        if memory is None:
            return None, None
        cosines = memory @ np.asarray(vector, dtype=np.float32)
        logits = (cosines - cosines.max()) / self.temperature
        weights = np.exp(logits)
        projected = (weights / weights.sum()) @ memory
        return projected / np.linalg.norm(projected), float(cosines.max())

    def decode(self, prefix: np.ndarray, lang: str) -> list[str]:
        """Beam search (greedy at beam 1) from a prefix vector; the tokens without specials."""
        torch = self._torch
        eos = self.index[EOS]
        with torch.inference_mode():
            prefix_t = torch.as_tensor(np.asarray(prefix, dtype=np.float32))[None, :]
            beams = [([self.index[f"<{lang}>"]], 0.0)]  # (tokens, summed log-probability)
            finished: list[tuple[list[int], float]] = []
            for _ in range(self.config.max_tokens + 1):
                tokens = torch.tensor([b[0] for b in beams])
                logits = self.decoder(prefix_t.expand(len(beams), -1), tokens)[:, -1]
                logits[:, self._never] = -math.inf
                log_probs = torch.log_softmax(logits, dim=-1)
                top = torch.topk(log_probs, self.beam, dim=-1)
                candidates = [(beam[0] + [int(t)], beam[1] + float(lp))
                              for beam, lps, ts in zip(beams, top.values, top.indices) for lp, t in zip(lps, ts)]
                candidates.sort(key=lambda c: c[1], reverse=True)
                beams = []
                for tokens_, score in candidates:
                    if tokens_[-1] == eos:
                        finished.append((tokens_, score))
                    elif len(beams) < self.beam:
                        beams.append((tokens_, score))
                if not beams:
                    break
            finished = finished or beams
            # length-normalised, so that a long true caption isn't beaten by a short one
            best = max(finished, key=lambda c: c[1] / (len(c[0]) - 1))[0]
        return [self.vocab[i] for i in best[1:] if i != eos]

    # --- files ---------------------------------------------------------------------------------

    def save(self, path: Path) -> Path:
        """Write `path` (.safetensors: fp16 weights and memory) and its .json; returns `path`."""
        from safetensors.torch import save_file

        torch = self._torch
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        tensors = {f"decoder.{k}": v.detach().to(torch.float16).contiguous() for k, v in self.decoder.state_dict().items()}
        for lang, vectors in self.memory.items():
            tensors[f"memory.{lang}"] = torch.from_numpy(vectors.astype(np.float16))
        save_file(tensors, str(path), metadata={"format": "mediahub-captioner", "clip_key": self.clip_key})
        meta = {
            "format": "mediahub-captioner", "version": FORMAT_VERSION, "clip_key": self.clip_key,
            "decoder": dataclasses.asdict(self.config), "temperature": self.temperature, "floor": self.floor,
            "beam": self.beam, "memory": {lang: len(v) for lang, v in self.memory.items()},
            "facts": self.facts, "vocab": self.vocab,
        }
        _meta_path(path).write_text(json.dumps(meta, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
        return path


def _meta_path(path: Path) -> Path:
    return Path(path).with_suffix(".json")


# --------------------------------------------------------------------------------------------
# Loading
# --------------------------------------------------------------------------------------------

_loaded: dict[tuple[str, int], Captioner] = {}
_lock = threading.Lock()


def load_captioner(path: Path, *, clip_key: str | None = None) -> Captioner:
    """The captioner saved at `path`, loaded once per process (per file version). With `clip_key`,
    CaptionerUnavailable unless it was trained for that CLIP model."""
    path = Path(path)
    if not path.is_file() or not _meta_path(path).is_file():
        missing = path if not path.is_file() else _meta_path(path)
        raise CaptionerUnavailable(
            f"No captioner at {path}: {missing.name} is missing. Train one for the active CLIP model with "
            "`manage.py train_captioner CORPUS` (a text file, one caption per line), or use the grammar descriptions.")
    with _lock:
        cache_key = (str(path.resolve()), path.stat().st_mtime_ns)
        captioner = _loaded.get(cache_key)
        if captioner is None:
            captioner = _read(path)
            _loaded[cache_key] = captioner
    if clip_key is not None and captioner.clip_key != clip_key:
        raise CaptionerUnavailable(
            f"The captioner at {path} was trained for the CLIP model {captioner.clip_key}, not {clip_key}: its "
            f"sentences would be read from another model's vectors. Train one for {clip_key} with "
            "`manage.py train_captioner CORPUS`.")
    return captioner


def _read(path: Path) -> Captioner:
    from safetensors.torch import load_file

    try:
        meta = json.loads(_meta_path(path).read_text(encoding="utf-8"))
        if meta.get("format") != "mediahub-captioner":
            raise ValueError("it is not a mediahub captioner's description")
        if meta.get("version") != FORMAT_VERSION:
            raise ValueError(f"it is format version {meta.get('version')}, this code reads version {FORMAT_VERSION}")
        config = DecoderConfig(**meta["decoder"])
        tensors = load_file(str(path))
        decoder = _decoder(config)
        decoder.load_state_dict({k[len("decoder."):]: v.float() for k, v in tensors.items() if k.startswith("decoder.")})
        memory = {k[len("memory."):]: v.float().numpy() for k, v in tensors.items() if k.startswith("memory.")}
        if len(meta["vocab"]) != config.vocab_size or any(v.shape[1] != config.clip_dim for v in memory.values()):
            raise ValueError("its vocabulary or memory doesn't match its decoder's sizes")
    except Exception as exc:  # noqa: BLE001 - whatever is wrong with the files (SafetensorError included) is said the same way
        raise CaptionerUnavailable(
            f"The captioner at {path} can't be read ({exc}). Train it again with `manage.py train_captioner CORPUS` "
            "(or, for the demo model, python -m workers.ml.demo.train_captioner).") from exc
    logger.info("loaded captioner %s for %s (%d tokens, memory %s)", path, meta["clip_key"], config.vocab_size,
                meta.get("memory"))
    return Captioner(decoder=decoder, config=config, vocab=meta["vocab"], memory=memory, clip_key=meta["clip_key"],
                     temperature=meta["temperature"], floor=meta["floor"], beam=meta.get("beam", DEFAULT_BEAM),
                     facts=meta.get("facts"))


def captioner_dir_name(clip_key: str) -> str:
    """A folder name for a model key ("mediahub-demo@file:1a2b" -> "mediahub-demo@file_1a2b")."""
    return re.sub(r"[^A-Za-z0-9@._-]", "_", clip_key)


def captioner_path(clip_key: str, data_dir: Path) -> Path:
    """Where `manage.py train_captioner` writes the captioner of a model in a data dir."""
    return Path(data_dir) / CAPTIONERS_DIR / captioner_dir_name(clip_key) / FILE_NAME


def captioner_for(model, *, data_dir: Path | None) -> Captioner | None:
    """The trained captioner for a CLIP model (a ClipSpec, or its key): the data dir's first, then,
    for the demo model, the bundled one; None when there is none for this model."""
    key = model if isinstance(model, str) else model.key
    if data_dir is not None and captioner_path(key, data_dir).is_file():
        return load_captioner(captioner_path(key, data_dir), clip_key=key)
    if key.startswith(_demo_model_name() + "@") and BUNDLED_DEMO_PATH.is_file():
        try:
            return load_captioner(BUNDLED_DEMO_PATH, clip_key=key)
        except CaptionerUnavailable as exc:  # the demo model was retrained: the bundled captioner is stale
            logger.warning("%s", exc)
    return None


def describer_method(model, *, data_dir: Path | None = None) -> str:
    """Which description method a model's shots should get: "grammar" or "captioner".

    Measured with bench/descriptions.py (README, "Descriptions"): for the demo model both are fully
    right on 0.995 of unseen test-pattern shots, but where the grammar leaves a doubtful shape out
    the captioner names a wrong one, and it costs ~50x more, so the grammar is the default. For a
    real model, a captioner trained on a newsroom's own caption corpus can say what the grammar's
    phrase tables can't; it is used once one has been trained for that model (`manage.py
    train_captioner`: an explicit choice), the grammar otherwise. (Not measured with real CLIP
    weights: none on the machine it was built on.)
    """
    key = model if isinstance(model, str) else model.key
    if key.startswith(_demo_model_name() + "@"):
        return "grammar"
    if data_dir is not None and captioner_path(key, data_dir).is_file():
        return "captioner"
    return "grammar"


def _demo_model_name() -> str:
    from workers.ml import demo

    return demo.MODEL_NAME


# --------------------------------------------------------------------------------------------
# Training
# --------------------------------------------------------------------------------------------

def read_corpus(lines: Sequence[str]) -> list[tuple[str, str]]:
    """(language, caption) of each non-empty line, each caption once, in first-seen order."""
    seen, out = set(), []
    for line in lines:
        caption = " ".join(line.split())
        if caption and caption not in seen:
            seen.add(caption)
            out.append((language_of(caption), caption))
    return out


def train_captioner(
    captions: Sequence[str],
    encode_texts: Callable[[list[str]], np.ndarray],
    *,
    clip_key: str,
    steps: int = 2000,
    batch_size: int = 64,
    learning_rate: float = 1e-3,
    width: int = 128,
    layers: int = 3,
    heads: int = 4,
    max_vocab: int = 16000,
    max_tokens: int = 32,
    max_memory: int = 50000,
    noise: float = 0.0,
    temperature: float = 0.01,
    floor: float = 0.2,
    beam: int = DEFAULT_BEAM,
    seed: int = 0,
    encode_batch: int = 256,
    log: Callable[[str], None] = logger.info,
) -> Captioner:
    """A captioner trained (DeCap) on `captions` (English and/or Chinese lines) embedded with
    `encode_texts` (the CLIP text tower of model `clip_key`; L2-normalised vectors).

    `noise`: std of Gaussian noise added to the text vectors in training (CapDec's remedy for the
    modality gap; 0 = DeCap's, which relies on the projection). `temperature` and `floor`: see
    Captioner. `max_memory`: the memory keeps at most this many captions (a seeded sample).
    """
    import torch

    corpus = [(lang, caption, tokenize(caption)[:max_tokens]) for lang, caption in read_corpus(captions)]
    corpus = [item for item in corpus if item[2]]
    if not corpus:
        raise ValueError("The corpus has no caption to learn from: give a text with one caption per line.")
    if steps < 1 or batch_size < 1:
        raise ValueError(f"steps and batch size must be at least 1 (got {steps} and {batch_size}).")
    rng = np.random.default_rng(seed)
    torch.manual_seed(seed)

    counts = Counter(token for _, _, tokens in corpus for token in tokens)
    vocab = list(SPECIALS) + [token for token, _ in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))][:max_vocab]
    index = {token: i for i, token in enumerate(vocab)}
    langs = Counter(lang for lang, _, _ in corpus)
    log(f"corpus: {len(corpus)} captions ({', '.join(f'{n} {lang}' for lang, n in sorted(langs.items()))}), "
        f"{len(vocab)} tokens")

    started = time.monotonic()
    texts = [caption for _, caption, _ in corpus]
    vectors = []
    for start in range(0, len(texts), encode_batch):
        vectors.append(np.asarray(encode_texts(texts[start:start + encode_batch]), dtype=np.float32))
        if (start // encode_batch) % 20 == 19:
            log(f"embedded {start + encode_batch}/{len(texts)} captions")
    vectors = np.concatenate(vectors)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    log(f"embedded {len(texts)} captions with the text tower in {time.monotonic() - started:.1f}s")

    config = DecoderConfig(clip_dim=int(vectors.shape[1]), vocab_size=len(vocab), width=width, layers=layers,
                           heads=heads, max_tokens=max(len(tokens) for _, _, tokens in corpus))
    sequences = np.full((len(corpus), config.max_tokens + 2), index[PAD], dtype=np.int64)  # <lang> tokens <eos>
    for row, (lang, _, tokens) in enumerate(corpus):
        ids = [index[f"<{lang}>"]] + [index.get(t, index[UNK]) for t in tokens] + [index[EOS]]
        sequences[row, :len(ids)] = ids

    decoder = _decoder(config)
    optimiser = torch.optim.AdamW(decoder.parameters(), lr=learning_rate, weight_decay=0.01)
    warmup = max(1, min(100, steps // 10))
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimiser, lambda step: min(1.0, (step + 1) / warmup) * 0.5 * (1 + math.cos(math.pi * min(1.0, step / steps))))
    loss_fn = torch.nn.CrossEntropyLoss(ignore_index=index[PAD], label_smoothing=0.1)
    all_vectors, all_sequences = torch.from_numpy(vectors), torch.from_numpy(sequences)
    decoder.train()
    started, running = time.monotonic(), []
    for step in range(steps):
        rows = torch.from_numpy(rng.integers(0, len(corpus), size=batch_size))
        batch_vectors, batch_tokens = all_vectors[rows], all_sequences[rows]
        if noise > 0:
            batch_vectors = batch_vectors + noise * torch.from_numpy(rng.standard_normal(batch_vectors.shape, dtype=np.float32))
            batch_vectors = batch_vectors / batch_vectors.norm(dim=1, keepdim=True)
        length = int((batch_tokens != index[PAD]).sum(dim=1).max())
        inputs, targets = batch_tokens[:, :length - 1], batch_tokens[:, 1:length]
        logits = decoder(batch_vectors, inputs)
        loss = loss_fn(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1))
        optimiser.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(decoder.parameters(), 1.0)
        optimiser.step()
        schedule.step()
        running.append(loss.item())
        if (step + 1) % max(1, steps // 20) == 0 or step + 1 == steps:
            log(f"step {step + 1}/{steps}: loss {np.mean(running):.3f} ({time.monotonic() - started:.0f}s)")
            running = []
    decoder.eval()

    memory = {}
    for lang in LANGS:
        rows = np.flatnonzero([item[0] == lang for item in corpus])
        if len(rows) > max_memory:
            rows = np.sort(rng.choice(rows, size=max_memory, replace=False))
        memory[lang] = vectors[rows]
    facts = {"captions": len(corpus), "languages": dict(langs), "steps": steps, "batch_size": batch_size,
             "learning_rate": learning_rate, "noise": noise, "seed": seed,
             "train_seconds": round(time.monotonic() - started, 1)}
    return Captioner(decoder=decoder, config=config, vocab=vocab, memory=memory, clip_key=clip_key,
                     temperature=temperature, floor=floor, beam=beam, facts=facts)
