"""Sampling one frame per interval from a video (or the one frame of an image) with PyAV,
and, in the same decode pass, a browser-playable proxy when the original isn't one.

Frames are decoded with FFmpeg's threads and scaled by swscale straight to the
stored size, so no full-resolution RGB copy of any frame is ever made; each picture
size has its own swscale context, kept for the whole decode (a frame's own
`reformat` sets one up anew for every frame: 5x the cost of a 32 px picture). On the
way, interlaced pictures are deinterlaced (FFmpeg's bwdif filter), HDR (PQ or
HLG) pictures are tone-mapped to SDR (numpy, on the already-small picture:
this FFmpeg build has no zscale, which its tonemap filter needs), and packets
that fail to decode are skipped and their seconds reported, instead of ending
the decode there.
"""

from __future__ import annotations

import io
import math
import queue
import threading
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Iterator

import av
import numpy as np
from av.video.reformatter import VideoReformatter
from PIL import Image, ImageOps

from workers.media.probe import MediaError, display_rotation

FRAME_SHORT_SIDE = 224  # CLIP's input size; the stored frame also serves as thumbnail
JPEG_QUALITY = 85
PROXY_SHORT_SIDE = 720
PROXY_CRF = "23"
PROXY_AUDIO_RATE = 48000
MAX_DEMUX_RETRIES = 10_000
READ_AHEAD_FRAMES = 4  # decoded pictures waiting for the sampler: enough to keep both threads busy, little memory
MAX_AUDIO_BACKLOG = 5_000  # audio frames kept while waiting for the first picture (~2 min of AAC)
DNA_GRID = 128  # px, the square picture given to a `dna` sampler (it keeps less)
# From this frame rate and picture size on, frames no other frame refers to (most B-frames) are not
# decoded: a quarter to a third less decoding, and a sample, DNA or shot picture lands at most a frame or
# two (≤ 0.08 s) later. Encoders put a cut on a reference frame (an I- or P-frame), so the first picture of
# a shot is kept. Smaller pictures decode cheaply anyway, and their shot pictures are noisy enough that
# the uneven spacing made a false cut in a 176×144 clip (README, "Ingest speed").
SKIP_NONREF_FROM_FPS = 20.0
SKIP_NONREF_FROM_SHORT_SIDE = 360

BROWSER_CODECS = {"h264", "vp8", "vp9", "av1"}
BROWSER_PIXEL_FORMATS = {"yuv420p", "yuvj420p"}
BROWSER_AUDIO_CODECS = {"aac", "mp3", "opus", "vorbis", "flac"}
MP4_FAMILY = "mov,mp4,m4a,3gp,3g2,mj2"
TRANSFER_PQ, TRANSFER_HLG = 16, 18  # AVColorTransferCharacteristic: SMPTE ST 2084, ARIB STD-B67


@dataclass
class SampledFrame:
    index: int  # position on the sampling grid
    time: float  # seconds from the first shown frame
    image: Image.Image  # RGB, rotated for display, short side FRAME_SHORT_SIDE at most
    face_image: Image.Image | None = None  # the same picture for face detection, when asked for (face_short_side)


@dataclass
class SamplingReport:
    """What the sampler saw: how far it decoded, which seconds were lost, what it did to the pictures."""

    decoded_until: float = 0.0  # seconds from the first shown frame to the end of the last decoded one
    damaged: str | None = None  # FFmpeg's words for the first decoding error
    frames: int = 0
    lost: list[tuple[float, float]] = field(default_factory=list)  # (start, end) seconds lost inside the file
    start_time: float = 0.0  # the first shown frame's time in the file (MPEG-TS often starts far from 0)
    proxy: bool = False  # a browser-playable proxy was written
    deinterlaced: bool = False
    tone_mapped: str | None = None  # "pq" or "hlg"

    def lost_text(self) -> str:
        """'12–17 s and 30–31 s' for people."""
        spans = [f"{math.floor(start)}–{max(math.ceil(end), math.floor(start) + 1)} s" for start, end in self.lost]
        return " and ".join(filter(None, [", ".join(spans[:-1]), spans[-1]])) if spans else ""


def scaled_size(width: int, height: int, short_side: int = FRAME_SHORT_SIDE) -> tuple[int, int]:
    scale = min(1.0, short_side / min(width, height))
    return max(2, round(width * scale / 2) * 2), max(2, round(height * scale / 2) * 2)


def browser_playable(*, container: str, codec: str, pixel_format: str, start_time: float,
                     audio_codec: str | None = None) -> bool:
    """Whether Chromium-family browsers play the original as it is, from 0 = its first shown frame."""
    if codec not in BROWSER_CODECS or pixel_format not in BROWSER_PIXEL_FORMATS or abs(start_time) > 0.001:
        return False
    if audio_codec is not None and audio_codec not in BROWSER_AUDIO_CODECS:
        return False  # e.g. AC-3 or PCM: the picture would play in silence
    return container == MP4_FAMILY or (container == "matroska,webm" and codec != "h264")


def sample_video(path: Path | str, *, interval: float = 1.0, report: SamplingReport | None = None,
                 proxy_path: Path | str | None = None, face_short_side: int | None = None,
                 dna=None, shots=None, threads: int | None = None) -> Iterator[SampledFrame]:
    """Yield the frame shown at each multiple of `interval` seconds: the first frame starting
    in that slot, else the one still on screen from before (a still wrapped as a video, a pause
    in variable-rate footage). From SKIP_NONREF_FROM_FPS and SKIP_NONREF_FROM_SHORT_SIDE on (without
    a proxy to write or fields to deinterlace), frames that no other frame refers to are skipped: "the
    first frame" is then the first reference frame, at most a frame or two later.

    Times count from the first shown frame (after MP4 edit lists, whatever the first
    timestamp). Packets that fail to decode are skipped and their seconds recorded in
    `report.lost`; a file with no decodable frame raises MediaError. With `proxy_path`,
    a browser-playable MP4 is written there when the original isn't one (`report.proxy`).
    With `face_short_side`, every sample also carries `face_image`: the same decoded frame with
    its short side at most that (never more than the source's), scaled from the decoder's
    picture (or the proxy's RGB when that has the size), so faces need no second decode.
    With `dna` (an object with `.interval` and `.add(time, rgb)`, e.g. workers.ml.dna.DnaSampler),
    the first frame shown in each of its slots is also given to it, scaled by swscale to a small
    DNA_GRID square at display orientation, from the same decode.
    With `shots` (an object with `.interval`, `.side` and `.add(time, rgb)`, e.g.
    workers.media.shots.ShotSampler), likewise: a `.side` square picture (not rotated) every `.interval`.
    `threads`: FFmpeg's decoding threads (default: as many as it likes); one is the least CPU per frame.
    """
    report = report if report is not None else SamplingReport()
    with av.open(str(path), metadata_errors="ignore") as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        if threads:
            stream.thread_count = threads
        audio = container.streams.audio[0] if container.streams.audio and proxy_path else None
        pass_ = _DecodePass(container=container, stream=stream, audio=audio, interval=interval,
                            report=report, proxy_path=proxy_path, face_short_side=face_short_side, dna=dna,
                            shots=shots)
        try:
            yield from pass_.run()
        finally:
            pass_.close()
    if report.frames == 0:
        raise MediaError("The video has no decodable frames; the file may be truncated or damaged.")


class _DecodePass:
    """One demux-and-decode pass: samples, damage bookkeeping and the proxy encoder."""

    def __init__(self, *, container, stream, audio, interval: float, report: SamplingReport, proxy_path,
                 face_short_side: int | None, dna=None, shots=None):
        self.container, self.stream, self.audio = container, stream, audio
        self.dna, self.dna_next = dna, 0
        self.shots, self.shots_next = shots, 0
        self.face_short_side = face_short_side
        self.scalers = _Scalers()
        self.interval, self.report, self.proxy_path = interval, report, proxy_path
        rate = stream.average_rate or stream.guessed_rate or stream.base_rate
        self.frame_step = 1 / float(rate) if rate else 0.04
        self.first_time: float | None = None
        self.next_index = 0
        self.held: tuple[float, float, _Pictures | _LazyImage] | None = None  # (time, end, pictures) on screen
        self.last_good_end = 0.0
        self.error_pending = False
        self.deinterlacer = None
        self.seen_picture = False
        self.proxy: _Proxy | None = None
        self.audio_backlog: list[av.AudioFrame] = []

    def run(self) -> Iterator[SampledFrame]:
        events = _read_ahead(self._decoded())
        try:
            for kind, item in events:
                if kind == "audio":
                    self._audio_packet(item)
                elif kind == "error":
                    self._note_error(item)
                else:
                    yield from self._picture(item)
        finally:
            events.close()  # stops the decoding thread before the container closes
        for frame in self._drain_deinterlacer():
            yield from self._shown(frame)
        yield from self._end()

    def _decoded(self) -> Iterator[tuple[str, object]]:
        """The demuxing and decoding, in file order: ("frame", picture), ("audio", packet) and ("error", exception
        or None) events. It runs on a thread of its own (`_read_ahead`), so it touches nothing but the demuxer and
        the video decoder; what the events mean is worked out by the caller, in the same order."""
        streams = [self.stream] + ([self.audio] if self.audio else [])
        packets = self.container.demux(streams)
        retries, first = 0, True
        while True:
            try:
                packet = next(packets)
            except StopIteration:
                break
            except BlockingIOError:  # the demuxer lost sync in damaged data: read on from where it is
                yield "error", None
                retries += 1
                if retries > MAX_DEMUX_RETRIES:
                    break
                packets = self.container.demux(streams)
                continue
            except av.error.FFmpegError as exc:  # the container itself breaks off: nothing more to read
                yield "error", exc
                break
            if packet.dts is None and packet.size == 0:
                continue  # the flush packet demux() yields at the end; decoding is flushed below
            if packet.stream.type == "audio":
                yield "audio", packet
                continue
            if packet.is_corrupt:
                yield "error", None
            for event in self._decode(packet):
                if first and event[0] == "frame" and _whole(event[1]):
                    self._skip_nonref_after(event[1])
                    first = False
                yield event
        yield from self._decode(None)

    def _decode(self, packet) -> list[tuple[str, object]]:
        try:
            frames = self.stream.decode(packet)
            for frame in frames:
                if frame.time_base is None:  # frames flushed out at the end carry no time base in PyAV
                    frame.time_base = self.stream.time_base
            return [("frame", frame) for frame in frames]
        except av.error.EOFError:
            return []
        except av.error.FFmpegError as exc:
            return [("error", exc)]

    def _skip_nonref_after(self, frame: av.VideoFrame) -> None:
        """From the first picture on, skip frames no other frame refers to when nothing needs every frame:
        no proxy to encode, no fields to deinterlace, at least SKIP_NONREF_FROM_FPS and _SHORT_SIDE."""
        if (1 / self.frame_step >= SKIP_NONREF_FROM_FPS and not frame.interlaced_frame
                and min(frame.width, frame.height) >= SKIP_NONREF_FROM_SHORT_SIDE
                and not (self.proxy_path is not None and not self._playable(frame))):
            self.stream.codec_context.skip_frame = "NONREF"

    def _playable(self, frame: av.VideoFrame) -> bool:
        sound = self.container.streams.audio
        return browser_playable(container=self.container.format.name, codec=self.stream.codec_context.name,
                                pixel_format=frame.format.name, start_time=frame.time,
                                audio_codec=sound[0].codec_context.name if sound else None)

    def _note_error(self, exc: Exception | None) -> None:
        self.error_pending = True
        if self.report.damaged is None and exc is not None:
            self.report.damaged = str(getattr(exc, "strerror", None) or exc)
        elif self.report.damaged is None:
            self.report.damaged = "corrupt data"

    def _picture(self, frame: av.VideoFrame) -> Iterator[SampledFrame]:
        if frame.time is None or math.isnan(frame.time):
            return
        if frame.is_corrupt:  # concealed by the decoder: not what the camera saw
            self._note_error(None)
            return
        if self.error_pending:
            if not frame.key_frame:
                return  # decoded from damaged references: garbage until the next keyframe
            self._damage_ends(frame.time)
        if not self.seen_picture and frame.interlaced_frame:
            self.deinterlacer = _deinterlacer(self.stream)
            self.report.deinterlaced = True
        self.seen_picture = True
        if self.deinterlacer is None:
            yield from self._shown(frame)
            return
        self.deinterlacer.push(frame)
        for clean in _pull_all(self.deinterlacer):
            yield from self._shown(clean)

    def _drain_deinterlacer(self) -> list[av.VideoFrame]:
        if self.deinterlacer is None:
            return []
        try:
            self.deinterlacer.push(None)
        except av.error.FFmpegError:
            return []
        return list(_pull_all(self.deinterlacer))

    def _shown(self, frame: av.VideoFrame) -> Iterator[SampledFrame]:
        if self.first_time is None:
            self._begin(frame)
        time = frame.time - self.first_time
        if time < -1e-6 or (self.held is not None and time <= self.held[0]):
            return  # out of order after damage
        duration = float(frame.duration * frame.time_base) if frame.duration and frame.time_base else 0.0
        end = time + (duration or self.frame_step)
        yield from self._hold_until(time)
        self.last_good_end = max(self.last_good_end, end)
        self.report.decoded_until = max(self.report.decoded_until, end)
        proxy_rgb = self.proxy.write(frame, time) if self.proxy else None
        if self.dna is not None and time + 1e-6 >= self.dna_next * self.dna.interval:
            self.dna.add(time, _rotated(_rgb(frame, DNA_GRID, DNA_GRID, self.report.tone_mapped,
                                             scaler=self.scalers.dna), display_rotation(frame.rotation)))
            self.dna_next = math.floor((time + 1e-6) / self.dna.interval) + 1
        if self.shots is not None and time + 1e-6 >= self.shots_next * self.shots.interval:
            self.shots.add(time, _rgb(frame, self.shots.side, self.shots.side, self.report.tone_mapped,
                                      self.shots.interpolation, scaler=self.scalers.shots))
            self.shots_next = math.floor((time + 1e-6) / self.shots.interval) + 1
        if time + 1e-6 >= self.next_index * self.interval:
            pictures = _sample_image(frame, proxy_rgb, self.report.tone_mapped, self.face_short_side, self.scalers)
            yield self._sample(int((time + 1e-6) // self.interval), time, pictures)
            self.held = (time, end, pictures)
        else:
            self.held = (time, end, _LazyImage(frame, proxy_rgb, self.report.tone_mapped, self.face_short_side,
                                               self.scalers))

    def _damage_ends(self, file_time: float) -> None:
        """A keyframe after damage: record the seconds between the last good frame and this one as lost."""
        self.error_pending = False
        if self.first_time is None:  # a recording that starts mid-GOP: nothing shown was lost
            self.report.damaged = None
            return
        time = file_time - self.first_time
        if time - self.last_good_end > 0.5 * self.frame_step:
            self.report.lost.append((round(self.last_good_end, 3), round(time, 3)))
            self.held = None  # the picture on screen before the damage isn't the one during it
            self.next_index = max(self.next_index, math.floor(time / self.interval + 1e-6))

    def _hold_until(self, time: float) -> Iterator[SampledFrame]:
        """Slots without a frame of their own before `time` show the frame still on screen."""
        if self.held is None:
            return
        held_time, held_end, image = self.held
        while (held_time < self.next_index * self.interval < held_end - 1e-6
               and (self.next_index + 1) * self.interval <= time + 1e-6):
            yield self._sample(self.next_index, self.next_index * self.interval, _materialise(image))

    def _end(self) -> Iterator[SampledFrame]:
        # Damage that runs to the end of the file is a truncation: `decoded_until` tells how far it got.
        yield from self._hold_until(math.inf)
        if self.audio_backlog and self.proxy:
            self._flush_audio()

    def _sample(self, index: int, time: float, pictures: _Pictures) -> SampledFrame:
        self.next_index = index + 1
        self.report.frames += 1
        return SampledFrame(index=index, time=round(time, 3), image=pictures[0], face_image=pictures[1])

    def _begin(self, frame: av.VideoFrame) -> None:
        self.first_time = frame.time
        self.report.start_time = round(frame.time, 3)
        self.report.tone_mapped = {TRANSFER_PQ: "pq", TRANSFER_HLG: "hlg"}.get(frame.color_trc)
        if self.proxy_path is not None and (self.deinterlacer is not None or not self._playable(frame)):
            self.proxy = _Proxy(self.proxy_path, frame=frame, audio=self.audio, tone_map=self.report.tone_mapped)
            self.report.proxy = True
            self._flush_audio()

    def _audio_packet(self, packet) -> None:
        if self.proxy is None and (self.first_time is not None or len(self.audio_backlog) > MAX_AUDIO_BACKLOG):
            return  # no proxy to put it in
        try:
            frames = packet.decode()
        except av.error.FFmpegError:
            return  # damaged audio doesn't stop the pictures
        if self.proxy is None and self.first_time is None:
            self.audio_backlog.extend(frames)
            return
        for frame in frames:
            if self.proxy is not None:
                self.proxy.write_audio(frame, self.first_time)

    def _flush_audio(self) -> None:
        backlog, self.audio_backlog = self.audio_backlog, []
        if self.proxy is not None:
            for frame in backlog:
                self.proxy.write_audio(frame, self.first_time)

    def close(self) -> None:
        if self.proxy is not None:
            self.proxy.close()


def _whole(frame: av.VideoFrame) -> bool:
    """A picture with a time that the decoder did not have to conceal, as the sampler takes them (`_picture`):
    the first one decides the B-frame skip, as the first one shown decides the proxy."""
    return frame.time is not None and not math.isnan(frame.time) and not frame.is_corrupt


def _read_ahead(events: Iterator, depth: int = READ_AHEAD_FRAMES) -> Iterator:
    """`events`, produced on a thread of their own up to `depth` ahead. FFmpeg decodes (and swscale scales)
    without Python's lock, so the next pictures are decoded while this thread scales, samples and fingerprints
    the last ones: on a core that would otherwise be idle (a lone upload, the last file of a batch), or
    interleaved on a busy one. An exception on the decoding thread is raised here; closing the generator
    stops and joins the thread."""
    waiting: queue.Queue = queue.Queue(depth)
    stop = threading.Event()

    def produce() -> None:
        try:
            for event in events:
                if not _put_unless(waiting, ("event", event), stop):
                    return
            _put_unless(waiting, ("end", None), stop)
        except BaseException as exc:  # noqa: BLE001 - handed to the consuming thread, which raises it
            _put_unless(waiting, ("raise", exc), stop)
        finally:
            events.close()

    thread = threading.Thread(target=produce, name="decode", daemon=True)
    thread.start()
    try:
        while True:
            kind, item = waiting.get()
            if kind == "end":
                return
            if kind == "raise":
                raise item
            yield item
    finally:
        stop.set()
        thread.join()


def _put_unless(waiting: queue.Queue, item, stop: threading.Event) -> bool:
    """Put `item`, waiting for room; False (not put) once `stop` is set."""
    while not stop.is_set():
        try:
            waiting.put(item, timeout=0.05)
            return True
        except queue.Full:
            continue
    return False


class _LazyImage:
    """A frame's sample picture, made only if a later slot needs the frame while it is on screen."""

    def __init__(self, frame, proxy_rgb, tone_map, face_short_side, scalers):
        self.args = (frame, proxy_rgb, tone_map, face_short_side, scalers)
        self.image: _Pictures | None = None

    def get(self) -> _Pictures:
        if self.image is None:
            self.image = _sample_image(*self.args)
            self.args = None
        return self.image


def _materialise(image) -> _Pictures:
    return image.get() if isinstance(image, _LazyImage) else image


def _deinterlacer(stream) -> av.filter.Graph:
    """bwdif, one output frame per input frame (fields blended by motion, not by line doubling)."""
    graph = av.filter.Graph()
    source = graph.add_buffer(template=stream)
    bwdif = graph.add("bwdif", "mode=send_frame:parity=auto:deint=interlaced")
    sink = graph.add("buffersink")
    source.link_to(bwdif)
    bwdif.link_to(sink)
    graph.configure()
    return graph


def _pull_all(graph) -> Iterator[av.VideoFrame]:
    while True:
        try:
            yield graph.vpull()
        except (BlockingIOError, av.error.EOFError):
            return
        except av.error.FFmpegError as exc:
            if getattr(exc, "errno", None) in (11, 35):  # EAGAIN
                return
            raise


class _Scalers:
    """One swscale context per picture a decode makes, reused from frame to frame."""

    def __init__(self):
        self.dna, self.shots, self.sample, self.face = (VideoReformatter() for _ in range(4))


def _rgb(frame: av.VideoFrame, width: int, height: int, tone_map: str | None, interpolation: str | None = None, *,
         scaler: VideoReformatter | None = None) -> np.ndarray:
    """The frame as 8-bit RGB at width×height, tone-mapped from HDR if needed, not yet rotated."""
    scaler = VideoReformatter() if scaler is None else scaler
    if tone_map is None:
        return scaler.reformat(frame, width=width, height=height, format="rgb24",
                               interpolation=interpolation).to_ndarray()
    signal = scaler.reformat(frame, width=width, height=height, format="rgb48le", src_colorspace="bt2020",
                             interpolation=interpolation).to_ndarray()
    return hdr_to_sdr(signal.astype(np.float32) / 65535.0, transfer=tone_map)


def _rotated(rgb: np.ndarray, rotation: int) -> np.ndarray:
    return np.ascontiguousarray(np.rot90(rgb, k=-rotation // 90)) if rotation else rgb


_Pictures = tuple[Image.Image, Image.Image | None]  # the sample picture and, when asked for, the face picture


def _sample_image(frame: av.VideoFrame, proxy_rgb: np.ndarray | None, tone_map: str | None,
                  face_short_side: int | None, scalers: _Scalers) -> _Pictures:
    rotation = display_rotation(frame.rotation)
    face = None
    if face_short_side is not None:
        face_size = scaled_size(frame.width, frame.height, face_short_side)
        proxy_size = proxy_rgb.shape[:2][::-1] if proxy_rgb is not None else None
        if proxy_size is not None and sorted(proxy_size) == sorted(face_size):
            face = Image.fromarray(proxy_rgb)  # the proxy's RGB has the face size already
        else:
            face = Image.fromarray(_rotated(_rgb(frame, *face_size, tone_map, scaler=scalers.face), rotation))
        if tone_map is not None and proxy_rgb is None:
            proxy_rgb = np.asarray(face)  # tone-mapped once: the sample is shrunk from it
    if proxy_rgb is not None:  # already decoded to RGB (and rotated) for the proxy: shrink that
        image = Image.fromarray(proxy_rgb)
        image.thumbnail(scaled_size(*image.size), Image.Resampling.BILINEAR)
        return image, face
    width, height = scaled_size(frame.width, frame.height)
    return Image.fromarray(_rotated(_rgb(frame, width, height, tone_map, scaler=scalers.sample), rotation)), face


# HDR to SDR. Reference white (BT.2408: 203 cd/m²) becomes SDR white; brighter
# highlights are rolled off smoothly instead of clipping; BT.2020 primaries are
# converted to BT.709 in linear light.
REFERENCE_WHITE = 203.0
_BT2020_TO_BT709 = np.array([[1.6605, -0.5876, -0.0728],
                             [-0.1246, 1.1329, -0.0083],
                             [-0.0182, -0.1006, 1.1187]], dtype=np.float32)


def pq_to_nits(signal: np.ndarray) -> np.ndarray:
    m1, m2, c1, c2, c3 = 2610 / 16384, 2523 / 4096 * 128, 3424 / 4096, 2413 / 4096 * 32, 2392 / 4096 * 32
    p = np.power(np.clip(signal, 0, 1), 1 / m2)
    return 10000.0 * np.power(np.maximum(p - c1, 0) / (c2 - c3 * p), 1 / m1)


def hlg_to_nits(signal: np.ndarray, peak: float = 1000.0) -> np.ndarray:
    a, b, c = 0.17883277, 0.28466892, 0.55991073
    signal = np.clip(signal, 0, 1)
    scene = np.where(signal <= 0.5, signal ** 2 / 3, (np.exp((signal - c) / a) + b) / 12)
    luminance = scene @ np.array([0.2627, 0.6780, 0.0593], dtype=np.float32)
    return peak * scene * np.power(np.maximum(luminance, 1e-6), 0.2)[..., None]  # the HLG OOTF, system gamma 1.2


def hdr_to_sdr(signal: np.ndarray, *, transfer: str) -> np.ndarray:
    """HxWx3 non-linear BT.2020 RGB in 0..1 (PQ or HLG) → HxWx3 uint8 BT.709 sRGB."""
    nits = pq_to_nits(signal) if transfer == "pq" else hlg_to_nits(signal)
    linear = (nits / REFERENCE_WHITE) @ _BT2020_TO_BT709.T
    linear = np.maximum(linear, 0)
    knee = 0.8  # unchanged below; above, an extended Reinhard curve that reaches 1 at 10x reference white
    span = 1.0 - knee
    over = np.maximum(linear - knee, 0) / span
    white = (10.0 - knee) / span
    rolled = knee + span * np.minimum(over * (1 + over / white ** 2) / (1 + over), 1.0)
    linear = np.where(linear > knee, rolled, linear)
    encoded = np.where(linear <= 0.0031308, 12.92 * linear, 1.055 * np.power(linear, 1 / 2.4) - 0.055)
    return (np.clip(encoded, 0, 1) * 255 + 0.5).astype(np.uint8)


class _Proxy:
    """H.264 yuv420p (+ AAC) MP4 with faststart; short side ≤ 720, rotation applied, time 0 = first shown frame."""

    def __init__(self, path, *, frame: av.VideoFrame, audio, tone_map: str | None):
        self.rotation = display_rotation(frame.rotation)
        self.tone_map = tone_map
        self.size = scaled_size(frame.width, frame.height, PROXY_SHORT_SIDE)
        self.scaler = VideoReformatter()
        width, height = self.size if self.rotation in (0, 180) else self.size[::-1]
        self.container = av.open(str(path), "w", format="mp4", options={"movflags": "+faststart"})
        self.video = self.container.add_stream("libx264", rate=25)
        self.video.width, self.video.height, self.video.pix_fmt = width, height, "yuv420p"
        self.video.codec_context.time_base = Fraction(1, 90000)
        self.video.options = {"preset": "veryfast", "crf": PROXY_CRF}
        self.last_pts = -1
        self.audio = None
        if audio is not None:
            self.audio = self.container.add_stream("aac", rate=PROXY_AUDIO_RATE)
            self.audio.layout = "stereo"
            self.resampler = av.AudioResampler(format="fltp", layout="stereo", rate=PROXY_AUDIO_RATE, frame_size=1024)
            self.audio_samples = None

    def write(self, frame: av.VideoFrame, time: float) -> np.ndarray | None:
        """Encode the frame shown at `time`. Returns its RGB picture (rotated) when one had to be made,
        for the sampler to reuse; upright SDR frames go from YUV to YUV without one."""
        pts = round(time * 90000)
        if pts <= self.last_pts:
            return None
        rgb = None
        if self.rotation or self.tone_map:
            rgb = _rotated(_rgb(frame, *self.size, self.tone_map, scaler=self.scaler), self.rotation)
            picture = av.VideoFrame.from_ndarray(rgb, format="rgb24")
        else:
            picture = self.scaler.reformat(frame, width=self.size[0], height=self.size[1], format="yuv420p")
        picture.pts, picture.time_base = pts, Fraction(1, 90000)
        self.container.mux(self.video.encode(picture))
        self.last_pts = pts
        return rgb

    def write_audio(self, frame: av.AudioFrame, first_time: float) -> None:
        if self.audio is None or frame.time is None or frame.time < first_time - 1e-3:
            return
        if self.audio_samples is None:
            self.audio_samples = round((frame.time - first_time) * PROXY_AUDIO_RATE)
        frame.pts = None
        for chunk in self.resampler.resample(frame):
            self._encode_audio(chunk)

    def _encode_audio(self, chunk) -> None:
        chunk.pts, chunk.time_base = self.audio_samples, Fraction(1, PROXY_AUDIO_RATE)
        self.audio_samples += chunk.samples
        self.container.mux(self.audio.encode(chunk))

    def close(self) -> None:
        try:
            self.container.mux(self.video.encode(None))
            if self.audio is not None and self.audio_samples is not None:
                for chunk in self.resampler.resample(None):
                    self._encode_audio(chunk)
                self.container.mux(self.audio.encode(None))
        finally:
            self.container.close()


def sample_image(path: Path | str, *, face_short_side: int | None = None, dna=None) -> SampledFrame:
    """The single 'frame' of a still image, EXIF orientation applied (and with `face_short_side`,
    the face picture: short side at most that, from the same decode; with `dna`, the picture is
    also given to its `.add` at time 0)."""
    with Image.open(path) as img:
        img.draft("RGB", scaled_size(*img.size, face_short_side or FRAME_SHORT_SIDE))  # JPEG decodes at reduced size
        img = ImageOps.exif_transpose(img).convert("RGB")
        face = None
        if face_short_side is not None:
            face = img.copy()
            face.thumbnail(scaled_size(*face.size, face_short_side), Image.Resampling.BILINEAR)
        img.thumbnail(scaled_size(*img.size), Image.Resampling.BILINEAR)
        if dna is not None:
            dna.add(0.0, np.asarray(img))
        return SampledFrame(index=0, time=0.0, image=img, face_image=face)


def encode_jpeg(image: Image.Image, quality: int = JPEG_QUALITY) -> bytes:
    """With `optimize`: a second pass for smaller Huffman tables (same pixels, ~10 % smaller; the frames are
    kept and served)."""
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=quality, optimize=True)
    return buffer.getvalue()
