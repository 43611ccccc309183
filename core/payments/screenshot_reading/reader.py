"""Read one screenshot: normalise, straighten, run the engine, extract; boxes in original pixels."""

from __future__ import annotations

import math

from PIL import Image

from core.payments.screenshot_reading.engines import Box, Engine
from core.payments.screenshot_reading.extract import Reading, extract
from core.payments.screenshot_reading.normalise import normalise, skew_angle

MIN_SKEW = 0.75  # degrees; below this rotating costs more sharpness than it gains


def read_image(image: Image.Image, engine: Engine) -> Reading:
    """The fields ``engine`` reads on ``image`` (boxes mapped back onto ``image``)."""
    normal = normalise(image)
    angle = skew_angle(normal.image)
    page = normal.image
    if abs(angle) >= MIN_SKEW:
        page = page.rotate(angle, resample=Image.Resampling.BICUBIC, fillcolor=255)
    reading = extract(engine.read(page))
    size = page.size
    reading.boxes = {
        name: _back(box, angle if abs(angle) >= MIN_SKEW else 0.0, size, normal.scale)
        for name, box in reading.boxes.items()
    }
    return reading


def _back(box: Box, angle: float, size: tuple[int, int], scale: float) -> Box:
    """Undo the straightening rotation and the scaling for a box."""
    cx, cy = size[0] / 2, size[1] / 2
    theta = math.radians(angle)  # PIL rotates counter-clockwise; the inverse turns clockwise
    corners = [(box[0], box[1]), (box[2], box[1]), (box[0], box[3]), (box[2], box[3])]
    xs, ys = [], []
    for x, y in corners:
        dx, dy = x - cx, y - cy
        xs.append(cx + dx * math.cos(theta) - dy * math.sin(theta))
        ys.append(cy + dx * math.sin(theta) + dy * math.cos(theta))
    return (
        round(min(xs) / scale),
        round(min(ys) / scale),
        round(max(xs) / scale),
        round(max(ys) / scale),
    )
