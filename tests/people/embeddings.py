"""Constructed face descriptors: random-but-seeded 128-d vectors shaped like dlib's.

An identity is a random point of norm 1; its faces lie about 0.28 from each other (dlib's
same-person pairs measure 0.3-0.45), two identities about 1.4 apart (different people: 0.6-1.0).
"""

import numpy as np

DIM = 128
SPREAD = 0.2  # the norm of a face's offset from its identity


def identity(rng: np.random.Generator) -> np.ndarray:
    centre = rng.normal(size=DIM)
    return (centre / np.linalg.norm(centre)).astype(np.float32)


def faces_of(centre: np.ndarray, count: int, rng: np.random.Generator, spread: float = SPREAD) -> np.ndarray:
    noise = rng.normal(size=(count, DIM))
    noise *= spread / np.linalg.norm(noise, axis=1, keepdims=True)
    return (centre + noise).astype(np.float32)
