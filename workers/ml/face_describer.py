"""dlib's face descriptor in a process of its own.

`compute_face_descriptor` holds the GIL for all of its ~65 ms, so on a thread it stalls the tracker
and the scans of the faces step (measured: a Python loop ran 28× slower while a descriptor ran on
another thread). Here a child process computes them: aligned chips go down a pipe, 128-d vectors
come back in the same order.

The child is this file run as a script; it imports only numpy and dlib, and it ends when its
stdin closes (the worker process that started it exited or was killed), so it never outlives its
worker. One child per worker process, started on first need and again after it died.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections import deque
from concurrent.futures import Future
from pathlib import Path

import numpy as np

VECTOR_BYTES = 128 * 4  # float32
HEADER_BYTES = 8  # the chip's height and width, uint32 each


class DescriberStopped(ConnectionError):
    """The descriptor process ended before it answered (a ConnectionError, so the step is retried
    and the retry starts a new one)."""


class DescriberProcess:
    """Submit aligned RGB chips (uint8, h×w×3); each Future gives the chip's 128-d float32 vector."""

    def __init__(self, weights: Path):
        environment = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1")
        self._child = subprocess.Popen([sys.executable, str(Path(__file__).resolve()), str(weights)],
                                       stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=environment)
        self._pending: deque[Future] = deque()
        self._lock = threading.Lock()
        self._answering = True
        self.owner = os.getpid()
        threading.Thread(target=self._read_answers, name="faces-describer-answers", daemon=True).start()

    @property
    def alive(self) -> bool:
        return self._answering and self._child.poll() is None and self.owner == os.getpid()

    def submit(self, chip: np.ndarray) -> Future:
        chip = np.ascontiguousarray(chip, dtype=np.uint8)
        future: Future = Future()
        header = np.array(chip.shape[:2], dtype=np.uint32).tobytes()
        with self._lock:
            if not self._answering:
                future.set_exception(self._stopped())
                return future
            self._pending.append(future)
            try:
                self._child.stdin.write(header + chip.tobytes())
                self._child.stdin.flush()
            except (BrokenPipeError, OSError, ValueError):
                self._pending.remove(future)
                future.set_exception(self._stopped())
        return future

    def close(self) -> None:
        if self._child.stdin and not self._child.stdin.closed:
            try:
                self._child.stdin.close()
            except BrokenPipeError:
                pass
        try:
            self._child.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._child.kill()
            self._child.wait()

    def _read_answers(self) -> None:
        stream = self._child.stdout
        while True:
            answer = _read_exactly(stream, VECTOR_BYTES)
            with self._lock:
                if answer is None:
                    self._answering = False
                    error = self._stopped()
                    while self._pending:
                        self._pending.popleft().set_exception(error)
                    return
                future = self._pending.popleft()
            future.set_result(np.frombuffer(answer, dtype=np.float32).copy())

    def _stopped(self) -> DescriberStopped:
        code = self._child.poll()
        how = "was stopped" if code is None else f"ended with exit code {code}"
        return DescriberStopped(f"The face descriptor process {how} before it answered (killed, or out of memory).")


def _read_exactly(stream, size: int) -> bytes | None:
    data = bytearray()
    while len(data) < size:
        piece = stream.read(size - len(data))
        if not piece:
            return None
        data += piece
    return bytes(data)


def serve(weights: str) -> None:
    """The child: read chips from stdin, write vectors to stdout, until stdin closes."""
    import dlib

    describer = dlib.face_recognition_model_v1(weights)
    requests, answers = sys.stdin.buffer, sys.stdout.buffer
    while True:
        header = _read_exactly(requests, HEADER_BYTES)
        if header is None:
            return
        height, width = (int(n) for n in np.frombuffer(header, dtype=np.uint32))
        pixels = _read_exactly(requests, height * width * 3)
        if pixels is None:
            return
        chip = np.frombuffer(pixels, dtype=np.uint8).reshape(height, width, 3)
        vector = np.asarray(describer.compute_face_descriptor(chip), dtype=np.float32)
        answers.write(vector.tobytes())
        answers.flush()


if __name__ == "__main__":
    serve(sys.argv[1])
