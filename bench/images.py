"""Payment image check: time and peak memory of images.store_payment_image vs plain Pillow.

Cases: a typical 3 MP phone screenshot as chat apps deliver it (JPEG), the same as a PNG file, and
the largest image the check accepts (PAYMENT_MAX_PIXELS). The baseline opens the same file with
Pillow and saves it in the same output format, nothing else. Each measurement runs in a fresh
process, so its peak RSS is its own. Run with `make bench` (or `python -m bench.images`).
"""

from __future__ import annotations

import io
import math
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

from PIL import Image, ImageDraw, ImageFont

from bench._report import emit, machine, measure_here, run_child, write_section
from core.config import get_settings
from core.payments import screenshots

SCREENSHOT = (1170, 2532)  # a 6.1" phone, 2.96 MP
REPS = {"screenshot": 7, "largest": 3}


def draw_screenshot(size: tuple[int, int]) -> Image.Image:
    """A banking-app transfer receipt: flat UI, text, and a small photo-like banner."""
    width, height = size
    unit = width / 1170
    image = Image.new("RGB", size, (245, 246, 248))
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 0, width, int(260 * unit)), fill=(0, 80, 160))
    font = ImageFont.load_default(max(int(44 * unit), 10))
    big = ImageFont.load_default(max(int(96 * unit), 10))
    draw.text((60 * unit, 120 * unit), "m-Transfer  Berhasil", fill="white", font=font)
    draw.text((60 * unit, 420 * unit), "Rp 150.123", fill=(20, 24, 31), font=big)
    for n, line in enumerate(
        ["Ke: YAYASAN LARI JAKARTA", "BCA 1234567890", "Ref 20261128140012345", "28/11 14:00 WIB"]
    ):
        draw.text((60 * unit, (620 + n * 90) * unit), line, fill=(60, 64, 70), font=font)
    banner = (int(60 * unit), int(1100 * unit), int(width - 60 * unit), int(1500 * unit))
    noise = Image.effect_noise((banner[2] - banner[0], banner[3] - banner[1]), 40)
    image.paste(Image.merge("RGB", (noise, noise.point(lambda v: v // 2), noise)), banner[:2])
    return image


def _largest_size(max_pixels: int) -> tuple[int, int]:
    """The biggest size with the screenshot's aspect ratio that the pixel limit still accepts."""
    ratio = SCREENSHOT[1] / SCREENSHOT[0]
    width = math.isqrt(int(max_pixels / ratio))
    while width * math.ceil(width * ratio) > max_pixels:
        width -= 1
    return width, math.floor(width * ratio)


def _write_inputs(folder: Path, max_pixels: int) -> dict[str, Path]:
    shot = draw_screenshot(SCREENSHOT)
    largest = draw_screenshot(_largest_size(max_pixels))
    files = {
        "screenshot_jpeg": (shot, "JPEG", folder / "screenshot.jpg"),
        "screenshot_png": (shot, "PNG", folder / "screenshot.png"),
        "largest_jpeg": (largest, "JPEG", folder / "largest.jpg"),
    }
    for image, fmt, path in files.values():
        image.save(path, format=fmt, **({"quality": 85} if fmt == "JPEG" else {}))
    return {name: path for name, (_, _, path) in files.items()}


def child(op: str, source: str, reps: int) -> dict[str, Any]:
    """Measure one operation on one file inside this (fresh) process."""
    settings = get_settings()
    raw = settings.media_dir / "inbound" / "bench-raw"
    raw.parent.mkdir(parents=True, exist_ok=True)
    if op == "check":
        # The check deletes the raw file it is given, so each call gets a fresh copy (untimed).
        def prepare() -> None:
            shutil.copyfile(source, raw)

        result = measure_here(
            lambda: screenshots.store_payment_image(raw, settings=settings),
            reps=reps,
            before=prepare,
        )
    else:
        result = measure_here(lambda: _plain_open_save(source), reps=reps)
    with Image.open(source) as probe:
        result.update(pixels=probe.width * probe.height, size=list(probe.size))
    result["bytes"] = Path(source).stat().st_size
    return result


def _plain_open_save(source: str) -> None:
    with Image.open(source) as image:
        out = io.BytesIO()
        if image.format == "PNG":
            image.save(out, format="PNG", optimize=False)
        else:
            image.convert("RGB").save(out, format="JPEG", quality=88)


def measure() -> dict[str, dict[str, dict[str, Any]]]:
    max_pixels = get_settings().payment_max_pixels
    results: dict[str, dict[str, dict[str, Any]]] = {}
    with tempfile.TemporaryDirectory(prefix="funrun-bench-images-") as tmp:
        folder = Path(tmp)
        inputs = _write_inputs(folder, max_pixels)
        env = {"MEDIA_DIR": str(folder / "media")}
        for name, path in inputs.items():
            reps = str(REPS["largest" if name.startswith("largest") else "screenshot"])
            results[name] = {
                op: run_child("images", op, str(path), reps, env=env)
                for op in ("check", "baseline")
            }
    return results


LABELS = {
    "screenshot_jpeg": "3 MP screenshot, JPEG (as chat apps deliver photos)",
    "screenshot_png": "3 MP screenshot, PNG (sent as a file)",
    "largest_jpeg": "largest allowed (PAYMENT_MAX_PIXELS), JPEG",
}


def _rows(results: dict[str, dict[str, dict[str, Any]]]) -> list[str]:
    rows = []
    for name, pair in results.items():
        check, base = pair["check"], pair["baseline"]
        w, h = check["size"]
        rows.append(
            f"| {LABELS[name]}: {w}x{h}, {check['bytes'] / 2**20:.2f} MiB | "
            f"{check['ms']:.0f} | {base['ms']:.0f} | **{check['ms'] / base['ms']:.2f}** | "
            f"{check['rss_mib']:.0f} | {base['rss_mib']:.0f} | "
            f"**{check['rss_mib'] / max(base['rss_mib'], 1):.2f}** | {check['py_mib']:.0f} |"
        )
    return rows


def _write(results: dict[str, dict[str, dict[str, Any]]]) -> None:
    write_section(
        "images",
        [
            "## Payment image check (bench/images.py)",
            "",
            f"Machine: {machine()}. `images.store_payment_image` (identify, pixel limit, verify, "
            "decode (JPEG at reduced scale) and fit to `MAX_STORED_SIDE` px, strip metadata, "
            "re-encode, sha256, perceptual hash) vs a baseline of plain "
            "Pillow open + save in the same output format. Median of warm runs; peak memory is the "
            "RSS high-water mark above the RSS after imports (the mark is reset first), each case "
            "in a fresh process; tracemalloc shows the Python-heap share.",
            "",
            "| image | check ms | baseline ms | time ratio | check peak MiB | baseline peak MiB "
            "| memory ratio | check Python-heap MiB |",
            "|---|---|---|---|---|---|---|---|",
            *_rows(results),
        ],
    )


def main() -> None:
    results = measure()
    _write(results)
    for line in _rows(results):
        print(line)


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "child":
        emit(child(sys.argv[2], sys.argv[3], int(sys.argv[4])))
    else:
        main()
