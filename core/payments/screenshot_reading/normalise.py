"""Image normalisation before OCR: grayscale, dark mode inverted, scaled, optionally thresholded.

Pure: a Pillow image in, a Pillow image and the factor that maps its boxes back to the original out.
"""

from __future__ import annotations

from dataclasses import dataclass

from PIL import Image, ImageOps, ImageStat

TARGET_WIDTH = 1000  # tesseract reads 20-40 px letters best; phone text is ~3 % of the width
MAX_HEIGHT = 2600
DARK_MEAN = 110  # a mean grey below this is a dark-mode screen (white text on black)


@dataclass(frozen=True, slots=True)
class Normalised:
    image: Image.Image
    scale: float  # normalised pixels per original pixel
    inverted: bool


def is_dark(gray: Image.Image) -> bool:
    """Dark mode: most pixels are dark. A photo's desk border is dark too, so judge the middle."""
    w, h = gray.size
    middle = gray.crop((w // 5, h // 5, w - w // 5, h - h // 5))
    return ImageStat.Stat(middle).mean[0] < DARK_MEAN


def normalise(image: Image.Image, *, threshold: bool = False) -> Normalised:
    gray = ImageOps.grayscale(ImageOps.exif_transpose(image) or image)
    inverted = is_dark(gray)
    if inverted:
        gray = ImageOps.invert(gray)
    scale = min(TARGET_WIDTH / gray.width, MAX_HEIGHT / gray.height)
    if abs(scale - 1) > 0.05:
        size = (max(round(gray.width * scale), 1), max(round(gray.height * scale), 1))
        gray = gray.resize(size, Image.Resampling.LANCZOS)
    else:
        scale = 1.0
    gray = ImageOps.autocontrast(gray, cutoff=1)
    if threshold:
        level = otsu(gray)
        gray = gray.point(lambda v: 255 if v > level else 0)
    return Normalised(gray, scale, inverted)


def otsu(gray: Image.Image) -> int:
    """The grey level that best splits the histogram into ink and paper."""
    histogram = gray.histogram()
    total = sum(histogram)
    weighted = sum(i * n for i, n in enumerate(histogram))
    best, best_level, below, below_weighted = 0.0, 127, 0, 0
    for level, count in enumerate(histogram):
        below += count
        below_weighted += level * count
        above = total - below
        if below == 0 or above == 0:
            continue
        mean_below = below_weighted / below
        mean_above = (weighted - below_weighted) / above
        spread = below * above * (mean_below - mean_above) ** 2
        if spread > best:
            best, best_level = spread, level
    return best_level


def skew_angle(gray: Image.Image, *, limit: float = 8.0, step: float = 1.0) -> float:
    """The rotation that makes text rows horizontal (a photo of a screen is often tilted).

    Projection profile on a small binarised copy: rows of text give the sharpest row-sum
    histogram when level. A few dozen rotations of a 300 px image cost milliseconds.
    """
    import numpy  # here, not at start-up: the API imports this module but never reads a photo

    small = gray.copy()
    small.thumbnail((300, 600))
    level = otsu(small)
    ink = small.point(lambda v: 255 if v < level else 0)
    best, best_angle = -1.0, 0.0
    angle = -limit
    while angle <= limit + 1e-9:
        turned = ink.rotate(angle, resample=Image.Resampling.NEAREST, fillcolor=0)
        sums = numpy.asarray(turned, dtype=numpy.float64).sum(axis=1)
        score = float(numpy.square(numpy.diff(sums)).sum())
        if score > best:
            best, best_angle = score, angle
        angle += step
    return best_angle
