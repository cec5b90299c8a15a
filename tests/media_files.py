"""Odd media files for the tests, made with PyAV: rotated, variable frame rate, audio-only, damaged,
and the regression corpus of footage as newsrooms get it."""

import functools
from dataclasses import dataclass, replace
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from workers.ml.demo.world import Scene, render_frame

SCENE = Scene(shape="circle", colour="red", background="blue", duration=10.0, seed=3)


def write_frames(path: Path, times: list[float], *, width=320, height=240, rotation: int | None = None,
                 options: dict | None = None, container_options: dict | None = None) -> Path:
    """H.264 with one frame at each of `times` (seconds, millisecond timestamps: any rate, even variable)."""
    with av.open(str(path), "w", options=container_options or {}) as container:
        stream = container.add_stream("libx264", rate=25)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.options = {"preset": "ultrafast", **(options or {})}
        stream.codec_context.time_base = Fraction(1, 1000)
        if rotation is not None:
            stream.set_display_rotation(rotation)
        for t in times:
            frame = av.VideoFrame.from_ndarray(render_frame(SCENE, t, width=width, height=height), format="rgb24")
            frame.pts, frame.time_base = round(t * 1000), Fraction(1, 1000)
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


def constant_rate_times(seconds: float, fps: float = 25) -> list[float]:
    return [i / fps for i in range(max(1, round(seconds * fps)))]


def write_audio_only(path: Path, seconds: float = 2.0) -> Path:
    with av.open(str(path), "w") as container:
        stream = container.add_stream("aac", rate=44100)
        samples = int(seconds * 44100)
        tone = (0.2 * np.sin(2 * np.pi * 440 * np.arange(samples) / 44100)).astype(np.float32)
        for start in range(0, samples, 1024):
            chunk = tone[start:start + 1024].reshape(1, -1)
            frame = av.AudioFrame.from_ndarray(chunk, format="fltp", layout="mono")
            frame.sample_rate, frame.pts = 44100, start
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


def truncated_copy(source: Path, target: Path, fraction: float) -> Path:
    data = source.read_bytes()
    target.write_bytes(data[: int(len(data) * fraction)])
    return target


# Footage as newsrooms get it: the same two test-pattern scenes (a green square, then a red
# circle off-centre so a wrong rotation moves it) in the containers, codecs and oddities
# of phones, broadcasters and agencies. The ground truth counts from the first SHOWN frame.

FIRST = Scene(shape="square", colour="green", background="white", duration=3.0, seed=41, x0=-0.25, y0=-0.15)
RED_CIRCLE = Scene(shape="circle", colour="red", background="blue", duration=3.0, seed=42, x0=0.3, y0=0.15)


@dataclass(frozen=True)
class Footage:
    name: str  # the container comes from the suffix
    codec: str
    pix_fmt: str = "yuv420p"
    fps: float = 10.0
    width: int = 320  # as displayed
    height: int = 240
    scenes: tuple[Scene, ...] = (FIRST, RED_CIRCLE)
    rotation: int = 0  # clockwise degrees the file asks players to turn the stored picture
    variable_rate: bool = False
    start: float = 0.0  # timestamp of the first frame (MPEG-TS from a broadcast chain starts anywhere)
    trim: float = 0.0  # seconds encoded before the first shown frame, hidden by an MP4 edit list
    interlaced: bool = False  # 50i: the two fields of a frame are 1/50 s apart
    hdr: str | None = None  # "pq" | "hlg": 10-bit BT.2020
    still: bool = False  # one picture lasting the whole scene
    audio: bool = False
    browser_plays: bool = False  # Chromium plays the original as it is: no proxy
    options: tuple[tuple[str, str], ...] = ()
    damage: tuple[float, float] | None = None  # stretch of the file (fractions of its bytes) overwritten with zeros
    render_scale: int = 1  # draw the world this many times smaller and let swscale enlarge it (4K)

    def truth(self, **attrs) -> tuple[float, float]:
        """(start, end) seconds of the scene with these attributes, from the first shown frame."""
        start = 0.0
        for sc in self.scenes:
            if all(getattr(sc, key) == value for key, value in attrs.items()):
                return start, start + sc.duration
            start += sc.duration
        raise LookupError(attrs)

    def shown_at(self, time: float) -> tuple[Scene, float]:
        start = 0.0
        for sc in self.scenes:
            if time < start + sc.duration:
                return sc, time - start
            start += sc.duration
        return self.scenes[-1], self.scenes[-1].duration

    def render(self, time: float) -> np.ndarray:
        """The picture a viewer should see at `time` (display orientation, SDR)."""
        scene, _ = self.shown_at(time)
        if scene.vx or scene.vy or scene.omega:
            return _render(self, time)
        return _render(self, round(time * 10) / 10)  # a still scene: a new noise pattern each tenth of a second is enough


@functools.lru_cache(maxsize=256)
def _render(footage: "Footage", time: float) -> np.ndarray:
    sc, offset = footage.shown_at(time)
    return render_frame(sc, offset, width=footage.width // footage.render_scale, height=footage.height // footage.render_scale)


def _frame_times(footage: Footage) -> list[float]:
    total = sum(sc.duration for sc in footage.scenes)
    if footage.still:
        return [0.0]
    if footage.variable_rate:  # a phone's rate wanders between 30 and 20 fps
        times, t, step = [], -footage.trim, 0
        while t < total - 1e-6:
            times.append(round(t, 3))
            t += (1 / 30, 1 / 24, 1 / 20)[step % 3]
            step += 1
        return times
    return [i / footage.fps - footage.trim for i in range(round((total + footage.trim) * footage.fps))]


def _stored_picture(footage: Footage, time: float) -> np.ndarray:
    rgb = footage.render(max(time, 0.0))
    if footage.interlaced:  # the bottom field was exposed half a frame later
        later = footage.render(max(time, 0.0) + 0.5 / footage.fps)
        rgb = rgb.copy()  # (a cached render)
        rgb[1::2] = later[1::2]
    return np.ascontiguousarray(np.rot90(rgb, k=footage.rotation // 90)) if footage.rotation else rgb


def write_footage(folder: Path, footage: Footage) -> Path:
    path = folder / footage.name
    time_base = Fraction(1, 1000) if footage.variable_rate or footage.still else Fraction(1, 90000)
    with av.open(str(path), "w") as container:
        stream = container.add_stream(footage.codec, rate=Fraction(footage.fps).limit_denominator(1001))
        stream.width, stream.height = (footage.height, footage.width) if footage.rotation in (90, 270) else (footage.width, footage.height)
        stream.pix_fmt = footage.pix_fmt
        stream.options = dict(footage.options)
        if footage.rotation:
            stream.set_display_rotation(-footage.rotation)  # PyAV counts counter-clockwise
        if not footage.still and footage.codec not in ("mpeg2video", "prores_ks"):
            stream.codec_context.time_base = time_base
        audio = container.add_stream("aac", rate=48000) if footage.audio else None
        times = _frame_times(footage)
        total = sum(sc.duration for sc in footage.scenes)
        for t in times:
            frame = _encodable(footage, _stored_picture(footage, t))
            frame.time_base = stream.codec_context.time_base or time_base
            frame.pts = round((t + footage.start) / frame.time_base)
            _mux(container, stream.encode(frame), hold=total if footage.still else None)
        _mux(container, stream.encode(), hold=total if footage.still else None)
        if audio is not None:
            _write_tone(container, audio, seconds=total, start=footage.start)
    if footage.damage:
        damage_middle(path, start_fraction=footage.damage[0], end_fraction=footage.damage[1])
    return path


def _mux(container, packets, *, hold: float | None) -> None:
    for packet in packets:
        if hold is not None:  # a still: its one frame lasts the whole clip
            packet.duration = round(hold / packet.time_base)
        container.mux(packet)


def _encodable(footage: Footage, rgb: np.ndarray) -> av.VideoFrame:
    if footage.hdr is None:
        stored = av.VideoFrame.from_ndarray(rgb, format="rgb24")
        return stored.reformat(width=stored.width * footage.render_scale, height=stored.height * footage.render_scale,
                               format=footage.pix_fmt)
    signal = sdr_to_hdr(rgb, transfer=footage.hdr)
    frame = av.VideoFrame.from_ndarray((signal * 65535 + 0.5).astype(np.uint16), format="rgb48le")
    frame = frame.reformat(format=footage.pix_fmt, dst_colorspace="bt2020")
    frame.color_trc = 16 if footage.hdr == "pq" else 18
    frame.color_primaries = frame.colorspace = 9
    return frame


def sdr_to_hdr(rgb: np.ndarray, *, transfer: str) -> np.ndarray:
    """sRGB 8-bit → non-linear BT.2020 RGB in 0..1, SDR white at the 203 cd/m² reference white (BT.2408)."""
    srgb = rgb.astype(np.float32) / 255
    linear = np.where(srgb <= 0.04045, srgb / 12.92, ((srgb + 0.055) / 1.055) ** 2.4)
    to_2020 = np.array([[0.6274, 0.3293, 0.0433], [0.0691, 0.9195, 0.0114], [0.0164, 0.0880, 0.8956]], np.float32)
    nits = np.maximum(linear @ to_2020.T, 0) * 203.0
    if transfer == "pq":
        m1, m2, c1, c2, c3 = 2610 / 16384, 2523 / 4096 * 128, 3424 / 4096, 2413 / 4096 * 32, 2392 / 4096 * 32
        y = (nits / 10000) ** m1
        return ((c1 + c2 * y) / (1 + c3 * y)) ** m2
    display = nits / 1000  # HLG: undo the OOTF (system gamma 1.2), then the OETF
    luminance = np.maximum(display @ np.array([0.2627, 0.6780, 0.0593], np.float32), 1e-6)
    scene = display * luminance[..., None] ** (-0.2 / 1.2)
    a, b, c = 0.17883277, 0.28466892, 0.55991073
    return np.where(scene <= 1 / 12, np.sqrt(3 * scene), a * np.log(np.maximum(12 * scene - b, 1e-6)) + c)


def _write_tone(container, stream, *, seconds: float, start: float) -> None:
    samples = int(seconds * 48000)
    tone = (0.2 * np.sin(2 * np.pi * 440 * np.arange(samples) / 48000)).astype(np.float32)
    for first in range(0, samples, 1024):
        frame = av.AudioFrame.from_ndarray(tone[first:first + 1024].reshape(1, -1), format="fltp", layout="mono")
        frame.sample_rate, frame.pts = 48000, first + round(start * 48000)
        frame.time_base = Fraction(1, 48000)
        for packet in stream.encode(frame):
            container.mux(packet)
    for packet in stream.encode():
        container.mux(packet)


def damage_middle(path: Path, *, start_fraction: float, end_fraction: float) -> Path:
    """Overwrite a stretch of the file with zeros, as a bad sector or a dropped transfer would."""
    data = bytearray(path.read_bytes())
    data[int(len(data) * start_fraction):int(len(data) * end_fraction)] = bytes(int(len(data) * end_fraction) - int(len(data) * start_fraction))
    path.write_bytes(bytes(data))
    return path


QUIET_X265 = ("x265-params", "log-level=error")
CORPUS = [
    Footage("phone_portrait_hevc_vfr.mp4", "libx265", width=240, height=320, rotation=90, variable_rate=True,
            options=(QUIET_X265,)),
    Footage("broadcast_offset.ts", "libx264", start=10.0, audio=True, options=(("preset", "ultrafast"),)),
    Footage("mpeg2.mxf", "mpeg2video", fps=25),
    Footage("prores.mxf", "prores_ks", pix_fmt="yuv422p10le", fps=25,  # MXF takes broadcast rates only
            scenes=(replace(FIRST, duration=2.0), replace(RED_CIRCLE, duration=2.0))),
    Footage("mpeg2.mov", "mpeg2video", fps=25),
    Footage("prores.mov", "prores_ks", pix_fmt="yuv422p10le", fps=10),
    Footage("interlaced_50i.mp4", "libx264", fps=25, interlaced=True,
            options=(("preset", "ultrafast"), ("flags", "+ilme+ildct"), ("x264-params", "interlaced=1:tff=1"))),
    Footage("edit_list_trim_bframes.mp4", "libx264", trim=1.0, browser_plays=True, options=(("preset", "fast"), ("bf", "3"))),
    Footage("hdr_pq.mp4", "libx265", pix_fmt="yuv420p10le", hdr="pq", options=(
        ("x265-params", "log-level=error:colorprim=bt2020:transfer=smpte2084:colormatrix=bt2020nc"),)),
    Footage("hdr_hlg.mp4", "libx265", pix_fmt="yuv420p10le", hdr="hlg", options=(
        ("x265-params", "log-level=error:colorprim=bt2020:transfer=arib-std-b67:colormatrix=bt2020nc"),)),
    Footage("uhd_50p.mp4", "libx264", fps=50, width=3840, height=2160, render_scale=12, browser_plays=True,
            scenes=(replace(FIRST, duration=1.0), replace(RED_CIRCLE, duration=1.0)), options=(("preset", "ultrafast"),)),
    Footage("damaged_middle.ts", "libx264", scenes=(RED_CIRCLE, replace(FIRST, duration=9.0)),
            damage=(0.45, 0.6), options=(("preset", "ultrafast"), ("g", "10"))),
    Footage("still_as_video.mov", "png", pix_fmt="rgb24", still=True, scenes=(replace(RED_CIRCLE, duration=5.0),)),
]


# Videos of real face photos (dlib's example photos in tests/data/faces, scikit-image's astronaut),
# for the face tests and bench/faces_step.py.

FACES_DIR = Path(__file__).parent / "data" / "faces"
JOHNS = sorted(path.name for path in (FACES_DIR / "johns").iterdir() if path.is_dir())


def john_photo(name: str, number: int = 0):
    """The `number`-th 150×150 aligned photo of one of dlib's five Johns (a PIL image)."""
    from PIL import Image

    return Image.open(sorted((FACES_DIR / "johns" / name).glob("*.jpg"))[number]).convert("RGB")


def astronaut_photo():
    from PIL import Image
    from skimage import data

    return Image.fromarray(data.astronaut())


@dataclass(frozen=True)
class PhotoShot:
    """One shot: photos pasted on a background, the whole picture panning at `pan` px/s (x, y)."""

    seconds: float
    photos: tuple = ()  # ((PIL image, (x, y) of its top-left corner, height in px, appears at s), ...)
    background: str = "grey"  # "grey" or "texture" (smooth noise, so a pan changes the picture)
    pan: tuple[float, float] = (0.0, 0.0)
    seed: int = 0


def render_photo_shot(shot: PhotoShot, t: float, *, width: int, height: int):
    from PIL import Image

    dx, dy = shot.pan[0] * t, shot.pan[1] * t
    if shot.background == "texture":
        rng = np.random.default_rng(shot.seed)
        coarse = Image.fromarray(rng.integers(40, 216, (height // 24 + 4, width // 24 + 8, 3), np.uint8))
        big = coarse.resize((coarse.width * 24, coarse.height * 24), Image.Resampling.BICUBIC)
        canvas = big.crop((round(48 + dx), round(48 + dy), round(48 + dx) + width, round(48 + dy) + height))
    else:
        canvas = Image.new("RGB", (width, height), (128, 128, 128))
    for photo, (x, y), size, appears in shot.photos:
        if t + 1e-6 < appears:
            continue
        scaled = photo.resize((round(photo.width * size / photo.height), size), Image.Resampling.BICUBIC)
        canvas.paste(scaled, (round(x - dx), round(y - dy)))
    return np.asarray(canvas)


def write_photo_video(path: Path, shots: list[PhotoShot], *, width: int = 640, height: int = 360, fps: int = 10) -> Path:
    """H.264 of the shots one after another; still shots are rendered once."""
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.options = {"preset": "ultrafast", "crf": "20"}
        index = 0
        for shot in shots:
            still = shot.pan == (0.0, 0.0) and all(appears == 0 for *_, appears in shot.photos)
            picture = render_photo_shot(shot, 0.0, width=width, height=height) if still else None
            for i in range(round(shot.seconds * fps)):
                rgb = picture if still else render_photo_shot(shot, i / fps, width=width, height=height)
                frame = av.VideoFrame.from_ndarray(rgb, format="rgb24")
                frame.pts = index
                index += 1
                for packet in stream.encode(frame):
                    container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path
