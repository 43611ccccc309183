"""QR codes as inline SVG (admin pages: start-link posters, the 2FA enrolment).

qrcode is imported on the first code drawn, not at start-up: the API draws one only on those pages
(about 8 MiB of its RSS, issue 12).
"""

from __future__ import annotations


def svg(data: str, *, box_size: int) -> str:
    """``data`` as an SVG path QR code with a two-module border (sharp at any print size)."""
    import qrcode
    import qrcode.image.svg

    image = qrcode.make(
        data, image_factory=qrcode.image.svg.SvgPathImage, box_size=box_size, border=2
    )
    return image.to_string(encoding="unicode")
