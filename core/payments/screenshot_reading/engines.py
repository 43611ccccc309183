"""OCR engines behind one small interface: an image in, text segments with boxes out.

Tesseract (Debian's tesseract-ocr + tesseract-ocr-ind, through pytesseract) is the default: on the
corpus it reads as well as RapidOCR on clean screenshots, keeps word spaces, and is several times
faster on this machine (see docs/BENCHMARKS.md). RapidOCR (ONNX models inside its wheel, nothing
downloaded at run time) stays available for comparison. Both are imported lazily, so importing core
never needs them.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache
from typing import Protocol

from PIL import Image

Box = tuple[int, int, int, int]  # x0, y0, x1, y1 in the image given to the engine


@dataclass(frozen=True, slots=True)
class Segment:
    """A run of words the engine saw together on one line."""

    text: str
    box: Box
    confidence: float  # 0..1


class Engine(Protocol):
    name: str

    def read(self, image: Image.Image) -> list[Segment]: ...


class EngineUnavailable(RuntimeError):
    """The engine (binary, language data or package) is not installed."""


class TesseractEngine:
    name = "tesseract"

    def __init__(self, *, languages: str = "ind+eng", timeout: float = 20.0) -> None:
        self.languages, self.timeout = languages, timeout

    def read(self, image: Image.Image) -> list[Segment]:
        try:
            import pytesseract
        except ImportError as exc:  # pragma: no cover - declared dependency
            raise EngineUnavailable("pytesseract") from exc
        os.environ.setdefault("OMP_THREAD_LIMIT", "1")  # one core per read; workers run in parallel
        try:
            data = pytesseract.image_to_data(
                image,
                lang=self.languages,
                config="--psm 11 --oem 1",
                output_type=pytesseract.Output.DICT,
                timeout=self.timeout,
            )
        except pytesseract.TesseractNotFoundError as exc:
            raise EngineUnavailable("tesseract") from exc
        return _tesseract_segments(data)


def _tesseract_segments(data: dict[str, list]) -> list[Segment]:
    """Words -> segments: words on one tesseract line, split where the gap is wide (label | value)."""
    lines: dict[tuple[int, int, int], list[int]] = {}
    for i, word in enumerate(data["text"]):
        if word.strip() and float(data["conf"][i]) >= 0:
            key = (data["block_num"][i], data["par_num"][i], data["line_num"][i])
            lines.setdefault(key, []).append(i)
    segments: list[Segment] = []
    for indexes in lines.values():
        indexes.sort(key=lambda i: data["left"][i])
        run: list[int] = []
        for i in indexes:
            if run and _gap(data, run[-1], i) > 1.6 * max(
                data["height"][i], data["height"][run[-1]]
            ):
                segments.append(_segment(data, run))
                run = []
            run.append(i)
        segments.append(_segment(data, run))
    return segments


def _gap(data: dict[str, list], left: int, right: int) -> int:
    return data["left"][right] - (data["left"][left] + data["width"][left])


def _segment(data: dict[str, list], run: list[int]) -> Segment:
    x0 = min(data["left"][i] for i in run)
    y0 = min(data["top"][i] for i in run)
    x1 = max(data["left"][i] + data["width"][i] for i in run)
    y1 = max(data["top"][i] + data["height"][i] for i in run)
    text = " ".join(data["text"][i].strip() for i in run)
    confidence = min(float(data["conf"][i]) for i in run) / 100
    return Segment(text, (x0, y0, x1, y1), confidence)


class RapidEngine:
    name = "rapidocr"

    def read(self, image: Image.Image) -> list[Segment]:
        import numpy as np

        result, _elapsed = _rapid()(np.asarray(image.convert("RGB")))
        segments = []
        for points, text, score in result or []:
            xs, ys = [p[0] for p in points], [p[1] for p in points]
            box = (int(min(xs)), int(min(ys)), int(max(xs)), int(max(ys)))
            segments.append(Segment(str(text), box, float(score)))
        return segments


@lru_cache(maxsize=1)
def _rapid():  # noqa: ANN202 - the model session is loaded once per process
    try:
        from rapidocr_onnxruntime import RapidOCR
    except ImportError as exc:  # pragma: no cover - optional
        raise EngineUnavailable("rapidocr-onnxruntime") from exc
    return RapidOCR(use_cls=False, intra_op_num_threads=1, inter_op_num_threads=1)


ENGINES = {"tesseract": TesseractEngine, "rapidocr": RapidEngine}


def get_engine(name: str = "tesseract", *, timeout: float = 20.0) -> Engine:
    if name == "tesseract":
        return TesseractEngine(timeout=timeout)
    return ENGINES[name]()
