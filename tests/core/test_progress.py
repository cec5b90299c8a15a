"""Long admin commands show a progress bar on stderr in a terminal, and none with --no-progress or when
stderr is not a terminal (pipes, logs, scripts); their stdout is the same either way."""

import fcntl
import json
import os
import pty
import struct
import subprocess
import sys
import termios

import pytest

from tests import factories
from tests.conftest import REPO, worker_env

pytestmark = pytest.mark.django_db(transaction=True)


def run_ingest(folder, *extra, terminal: bool) -> tuple[str, str]:
    """`manage.py ingest FOLDER` with stderr on a pseudo-terminal or a pipe; (stdout, stderr)."""
    command = [sys.executable, "manage.py", "ingest", str(folder), "--no-color", *extra]
    env = worker_env(DJANGO_SETTINGS_MODULE="tests.settings")
    if not terminal:
        done = subprocess.run(command, cwd=REPO, env=env, capture_output=True, timeout=120)
        return done.stdout.decode(), done.stderr.decode()
    controller, terminal_end = pty.openpty()
    fcntl.ioctl(terminal_end, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))  # a terminal 100 columns wide
    process = subprocess.Popen(command, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=terminal_end)
    os.close(terminal_end)
    stdout, _ = process.communicate(timeout=120)
    stderr = b""
    while True:
        try:
            chunk = os.read(controller, 4096)
        except OSError:  # the terminal's other end is closed: all is read
            break
        if not chunk:
            break
        stderr += chunk
    os.close(controller)
    return stdout.decode(), stderr.decode(errors="replace")


@pytest.fixture
def stills(tmp_path):
    folder = tmp_path / "stills"
    folder.mkdir()
    for index, colour in enumerate([(220, 40, 40), (40, 180, 60), (40, 80, 220)]):
        (folder / f"still{index}.png").write_bytes(factories.png_bytes(colour=colour))
    return folder


def test_ingest_shows_a_progress_bar_in_a_terminal_and_none_otherwise(stills):
    stdout, stderr = run_ingest(stills, terminal=True)
    assert "ingest: 100%" in stderr and "3/3" in stderr and "file/s" in stderr
    # The log's JSON lines (one per asset created) are written whole above the bar, not broken by it.
    logged = [line.rsplit("\r", 1)[-1] for line in stderr.split("\r\n") if '{"level"' in line]
    created = [json.loads(line)["message"] for line in logged if " created from " in line]
    assert [message.split(" from ")[1].split(" (")[0] for message in created] == ["still0.png", "still1.png", "still2.png"]
    assert [line.split("\t")[2] for line in stdout.splitlines()] == ["queued"] * 3

    for extra, terminal in ((("--no-progress",), True), ((), False)):
        again_out, again_err = run_ingest(stills, *extra, terminal=terminal)
        assert "%|" not in again_err and "file/s" not in again_err, (extra, terminal)
        assert [line.split("\t")[2] for line in again_out.splitlines()] == ["duplicate"] * 3
