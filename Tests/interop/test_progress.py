"""The progress bar of `klogs ingest`: drawn on standard error when it is a terminal, never otherwise.

The terminal is a pseudo-terminal (the `pty` module), 100 columns wide; what klogs writes to it is read back raw.
"""

from __future__ import annotations

import fcntl
import os
import re
import struct
import subprocess
import termios
from pathlib import Path

from conftest import gzip_file

COLUMNS = 100
# name [bar] percentage  bytes of size  rate lines/s  ETA time, e.g.
# …/generated.log [####......]  40%  1.8 MB of 4.5 MB  812.4 k lines/s  ETA 0:01
BAR = re.compile(
    r"(…?\S*)generated\.log \[#*\.*\] +\d+%  [\d.]+ [kMG]?B of [\d.]+ [kMG]?B  "
    r"(…|\d+|[\d.]+ [kM]) lines/s  ETA (--:--|\d+:\d\d|\d+:\d\d:\d\d)")


def ingest_on_terminal(klogs_bin: Path, data: Path, *arguments: str) -> tuple[int, bytes]:
    """Runs `klogs ingest` with standard error on a pseudo-terminal; returns the exit status and all it wrote."""
    controller, terminal = os.openpty()
    fcntl.ioctl(terminal, termios.TIOCSWINSZ, struct.pack("HHHH", 24, COLUMNS, 0, 0))
    process = subprocess.Popen(
        [str(klogs_bin), "ingest", "--retention-days", "0", "--data", str(data), *arguments],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=terminal)
    os.close(terminal)
    output = bytearray()
    while True:
        try:
            chunk = os.read(controller, 65536)
        except OSError:  # EIO: the last holder of the terminal (klogs) has closed it
            break
        if not chunk:
            break
        output += chunk
    os.close(controller)
    return process.wait(timeout=600), bytes(output)


def split_drawings(output: bytes) -> tuple[list[str], str]:
    """The progress lines drawn, and what follows the last erase (the summary).

    Every drawing, and the final erase, starts with a carriage return and the erase-line sequence.
    """
    parts = output.decode("utf-8", errors="replace").split("\r\x1b[K")
    if len(parts) < 2:
        return [], parts[0]
    return parts[1:-1], parts[-1]


def test_a_terminal_shows_the_bar_with_size_rate_and_time_left_then_clears_it(klogs_bin, generated_log, tmp_path):
    status, output = ingest_on_terminal(klogs_bin, tmp_path / "data", str(generated_log))
    assert status == 0, output.decode(errors="replace")
    drawings, rest = split_drawings(output)
    assert drawings, f"no progress bar in {output[:2000]!r}"
    size = generated_log.stat().st_size
    for line in drawings:
        assert "\n" not in line and len(line) < COLUMNS, line
        assert BAR.fullmatch(line), line
        assert f"of {size / 1e6:.1f} MB" in line, line
    # The bar is erased before the summary, which starts on a clean line.
    assert rest.startswith("read "), rest[:200]


def test_a_compressed_file_counts_compressed_bytes_of_its_size_on_disk(klogs_bin, generated_log, tmp_path):
    compressed = gzip_file(generated_log, tmp_path / "generated.log.gz")
    status, output = ingest_on_terminal(klogs_bin, tmp_path / "data", str(compressed))
    assert status == 0, output.decode(errors="replace")
    drawings, _ = split_drawings(output)
    assert drawings
    size = compressed.stat().st_size
    assert all(f"of {size / 1e6:.1f} MB" in line or f"of {size / 1e3:.1f} kB" in line for line in drawings), drawings


def test_quiet_draws_no_bar_on_a_terminal(klogs_bin, generated_log, tmp_path):
    status, output = ingest_on_terminal(klogs_bin, tmp_path / "data", "--quiet", str(generated_log))
    assert status == 0
    assert output == b""


def test_without_a_terminal_there_is_no_bar(ingest, generated_log):
    run = ingest([generated_log]).check_ok()
    assert b"\r" not in run.stderr and b"\x1b[" not in run.stderr and b"ETA" not in run.stderr
