"""Test-pattern videos with the transitions an editor uses: hard cuts, fades through black and
dissolves (PyAV, numpy; no Django). The ground truth of a transition is its middle: where one
shot hands over to the next.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import numpy as np

from .world import Scene, random_scene, render_frame

CUT, FADE, DISSOLVE = "cut", "fade", "dissolve"


@dataclass(frozen=True)
class Transition:
    kind: str = CUT  # cut, fade (out to black, then in from black) or dissolve
    length: float = 0.0  # seconds, the whole transition (a fade's out and in together)


def _picture(scenes, bounds, transitions, t: float, width: int, height: int) -> np.ndarray:
    """The frame at time t: the scene on screen, or the blend of a transition around a boundary."""
    k = max(i for i, (start, _) in enumerate(bounds) if start <= t or i == 0)
    start, end = bounds[k]
    # The transition into scene k (at its start) or out of it (at its end), if t is inside it.
    for boundary, before, after, transition in ((start, k - 1, k, transitions[k - 1] if k else None),
                                                (end, k, k + 1, transitions[k] if k < len(transitions) else None)):
        if transition is None or transition.kind == CUT or after >= len(scenes):
            continue
        half = transition.length / 2
        if not boundary - half <= t < boundary + half:
            continue
        out = render_frame(scenes[before], t - bounds[before][0], width=width, height=height).astype(np.float32)
        into = render_frame(scenes[after], t - bounds[after][0], width=width, height=height).astype(np.float32)
        if transition.kind == DISSOLVE:
            alpha = (t - (boundary - half)) / transition.length
            blend = (1 - alpha) * out + alpha * into
        else:  # FADE: the outgoing shot darkens to black, the incoming one rises from it
            blend = out * ((boundary - t) / half) if t < boundary else into * ((t - boundary) / half)
        return np.clip(blend + 0.5, 0, 255).astype(np.uint8)
    return render_frame(scenes[k], t - start, width=width, height=height)


def write_edited_video(path, scenes: list[Scene], transitions: list[Transition], *, fps: float = 25,
                       width: int = 320, height: int = 240, crf: int = 23) -> list[float]:
    """Encode `scenes` (H.264) joined by `transitions` (one fewer than scenes); return the boundary
    times, the middle of each transition, in seconds from the first frame."""
    import av

    if len(transitions) != len(scenes) - 1:
        raise ValueError("need one transition between each two scenes")
    bounds, t = [], 0.0
    for scene in scenes:
        bounds.append((t, t + scene.duration))
        t += scene.duration
    rate = Fraction(fps).limit_denominator(1001)
    with av.open(str(Path(path)), mode="w") as container:
        stream = container.add_stream("libx264", rate=rate)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.options = {"preset": "ultrafast", "crf": str(crf)}
        stream.codec_context.time_base = 1 / rate
        for i in range(max(1, round(t * fps))):
            frame = av.VideoFrame.from_ndarray(_picture(scenes, bounds, transitions, i / float(rate), width, height),
                                               format="rgb24").reformat(format="yuv420p")
            frame.pts, frame.time_base = i, stream.codec_context.time_base
            container.mux(stream.encode(frame))
        container.mux(stream.encode())
    return [end for _, end in bounds[:-1]]


def random_edit(rng: np.random.Generator, *, scenes: int, kinds=(CUT, FADE, DISSOLVE),
                lengths=(0.5, 1.5)) -> tuple[list[Scene], list[Transition]]:
    """Scenes of 2–10 s, each differing from the one before in shape, colour or background, with
    transitions drawn from `kinds` (gradual ones `lengths` seconds long, never longer than
    a third of the shorter of its two scenes)."""
    chosen: list[Scene] = []
    while len(chosen) < scenes:
        scene = random_scene(rng, duration=float(rng.uniform(2.0, 10.0)))
        if chosen and (scene.shape, scene.colour, scene.background) == (
                chosen[-1].shape, chosen[-1].colour, chosen[-1].background):
            continue
        chosen.append(scene)
    transitions = []
    for before, after in zip(chosen, chosen[1:]):
        kind = str(rng.choice(kinds))
        length = 0.0 if kind == CUT else min(float(rng.uniform(*lengths)), min(before.duration, after.duration) / 3)
        transitions.append(Transition(kind, length))
    return chosen, transitions
