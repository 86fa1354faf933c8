"""The desktop spectator renders a generated planet: a screenshot under Xvfb.

The client starts through main.tscn with ``--spectator`` on the Compatibility renderer
(OpenGL 3 on llvmpipe), streams the terrain around the camera, saves the view as a PNG
(``--screenshot``) and quits. The PNG is kept under $SCREENSHOT_DIR (default
build/screenshots/) for CI to keep as an artifact, and is checked to show terrain: many
distinct colours, no single colour dominating, a blue sky at the top and lit, non-sky
ground at the bottom.
"""

from __future__ import annotations

import re
import struct
import zlib
from collections import Counter
from pathlib import Path

import pytest
from godot_support import PROJECT_DIR, Godot, import_project

SCREENSHOT_NAME = "spectator.png"
WORLD_SEED = 42
PLANET = 2  # grassland, forest, jungle, swamp: a colourful frame
VIEW_RADIUS = 3
RENDER_TIMEOUT_S = 540


def read_png(path: Path) -> tuple[int, int, list[tuple[int, int, int]]]:
    """(width, height, RGB pixels row-major) of an 8-bit RGB/RGBA, non-interlaced PNG."""
    data = path.read_bytes()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError(f"{path} is not a PNG")
    pos = 8
    idat = b""
    width = height = channels = 0
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind = data[pos + 4 : pos + 8]
        body = data[pos + 8 : pos + 8 + length]
        pos += 12 + length
        if kind == b"IHDR":
            width, height, depth, color, _comp, _filt, interlace = struct.unpack(">IIBBBBB", body)
            if depth != 8 or color not in (2, 6) or interlace != 0:
                raise ValueError(f"unsupported PNG: depth {depth}, colour type {color}")
            channels = 3 if color == 2 else 4
        elif kind == b"IDAT":
            idat += body
        elif kind == b"IEND":
            break
    raw = zlib.decompress(idat)
    stride = width * channels
    prev = bytearray(stride)
    pixels: list[tuple[int, int, int]] = []
    for y in range(height):
        start = y * (stride + 1)
        ftype = raw[start]
        row = bytearray(raw[start + 1 : start + 1 + stride])
        _unfilter(ftype, row, prev, channels)
        for x in range(0, stride, channels):
            pixels.append((row[x], row[x + 1], row[x + 2]))
        prev = row
    return width, height, pixels


def _unfilter(ftype: int, row: bytearray, prev: bytearray, bpp: int) -> None:
    n = len(row)
    if ftype == 0:
        return
    if ftype == 1:
        for i in range(bpp, n):
            row[i] = (row[i] + row[i - bpp]) & 0xFF
    elif ftype == 2:
        for i in range(n):
            row[i] = (row[i] + prev[i]) & 0xFF
    elif ftype == 3:
        for i in range(n):
            left = row[i - bpp] if i >= bpp else 0
            row[i] = (row[i] + ((left + prev[i]) >> 1)) & 0xFF
    elif ftype == 4:
        for i in range(n):
            a = row[i - bpp] if i >= bpp else 0
            b = prev[i]
            c = prev[i - bpp] if i >= bpp else 0
            p = a + b - c
            pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
            pred = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
            row[i] = (row[i] + pred) & 0xFF
    else:
        raise ValueError(f"bad PNG filter {ftype}")


def _region(
    pixels: list[tuple[int, int, int]], width: int, rows: range, cols: range
) -> list[tuple[int, int, int]]:
    return [pixels[y * width + x] for y in rows for x in cols]


def _is_sky(p: tuple[int, int, int]) -> bool:
    r, _g, b = p
    return b > 150 and b > r + 30


@pytest.fixture(scope="module")
def screenshot(godot: Godot, xvfb: str, screenshot_dir: Path) -> tuple[Path, str]:
    path = screenshot_dir / SCREENSHOT_NAME
    path.unlink(missing_ok=True)
    import_project(PROJECT_DIR)
    proc = godot.run(
        [
            "--path",
            PROJECT_DIR,
            "--rendering-method",
            "gl_compatibility",
            "--rendering-driver",
            "opengl3",
            "--audio-driver",
            "Dummy",
            "--xr-mode",
            "off",
            "--",
            "--spectator",
            "--world-seed",
            str(WORLD_SEED),
            "--planet",
            str(PLANET),
            "--view-radius",
            str(VIEW_RADIUS),
            "--screenshot",
            path,
        ],
        timeout=RENDER_TIMEOUT_S,
        xvfb=True,
    )
    log = f"exit {proc.returncode}\n--- stdout\n{proc.stdout}\n--- stderr\n{proc.stderr[-3000:]}"
    assert proc.returncode == 0, log
    assert path.is_file(), log
    return path, proc.stdout


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_spectator_screenshot_shows_terrain(screenshot: tuple[Path, str]) -> None:
    path, stdout = screenshot
    match = re.search(r"^SCREENSHOT .* OK .*\"meshes\": (\d+)", stdout, re.MULTILINE)
    assert match, stdout
    assert int(match.group(1)) >= 10, f"few terrain meshes were loaded:\n{stdout}"
    assert "start-up: res://desktop/spectator.tscn" in stdout

    width, height, pixels = read_png(path)
    assert width >= 640 and height >= 360
    counts = Counter(pixels)
    assert len(counts) >= 500, f"only {len(counts)} distinct colours: blank or flat frame"
    most, n = counts.most_common(1)[0]
    assert n < 0.4 * len(pixels), f"colour {most} fills {n / len(pixels):.0%} of the frame"

    # sky: the top fifth, right of the HUD text, is mostly blue
    sky = _region(pixels, width, range(0, height // 5), range(width // 2, width))
    sky_share = sum(map(_is_sky, sky)) / len(sky)
    assert sky_share > 0.8, f"top of the frame is not sky ({sky_share:.0%} blue)"

    # ground: the bottom quarter, above the HUD's last line, is not sky and is shaded
    ground = _region(pixels, width, range(height * 3 // 4, height - 40), range(0, width))
    ground_sky = sum(map(_is_sky, ground)) / len(ground)
    assert ground_sky < 0.05, f"bottom of the frame looks like sky ({ground_sky:.0%})"
    lum = [0.299 * r + 0.587 * g + 0.114 * b for r, g, b in ground]
    mean = sum(lum) / len(lum)
    var = sum((v - mean) ** 2 for v in lum) / len(lum)
    assert 20 < mean < 250, f"ground luminance {mean:.0f}: black or blown out"
    assert var > 4.0, f"ground is flat (luminance variance {var:.1f}): no lit terrain"
    ground_colours = len(set(ground))
    assert ground_colours >= 100, f"ground has only {ground_colours} colours"
