"""A corpus of transfer-success screenshots with ground truth, rendered with Pillow.

Fifteen layouts after the main Indonesian banks and e-wallets (title, colours, field labels, amount
and date formats as their apps show them), each light or dark, and seven variants of what reaches
us: the clean screenshot, dark mode, a phone status bar, a crop, a small heavily recompressed JPEG,
a photo of the screen taken at an angle, and a blurred photo. Everything is deterministic for a
seed, so tests (a small slice) and the benchmark (the lot) see the same images.

Used by tests/core/test_screenshot_reading*.py and bench/ocr.py; nothing here is imported by the app.
"""

from __future__ import annotations

import io
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import lru_cache
from pathlib import Path

from PIL import Image, ImageDraw, ImageFilter, ImageFont

FONTS = Path(__file__).resolve().parent.parent / "core" / "assets" / "fonts"
DEBIAN_FONTS = Path("/usr/share/fonts/truetype/liberation")
SIZE = (720, 1480)  # what WhatsApp / Telegram deliver of a 1080x2220 screenshot
VARIANTS = ("clean", "dark", "statusbar", "cropped", "jpeg", "angle", "blur")
MONTHS_ID = ["Jan", "Feb", "Mar", "Apr", "Mei", "Jun", "Jul", "Agu", "Sep", "Okt", "Nov", "Des"]
MONTHS_LONG = [
    "Januari", "Februari", "Maret", "April", "Mei", "Juni",
    "Juli", "Agustus", "September", "Oktober", "November", "Desember",
]  # fmt: skip
FIRST = ["Budi", "Siti", "Agus", "Dewi", "Rina", "Andi", "Putri", "Eko", "Sri", "Joko", "Ayu"]
LAST = ["Santoso", "Wijaya", "Lestari", "Pratama", "Hidayat", "Saputra", "Kusuma", "Nugroho"]
HOLDERS = ["YAYASAN LARI NUSANTARA", "PT FUNRUN INDONESIA", "KOMUNITAS LARI BANDUNG"]


@dataclass(frozen=True, slots=True)
class Layout:
    """How one app draws its success screen."""

    bank: str  # the name extraction must report
    title: str  # the status line (carries the status word)
    colour: tuple[int, int, int]
    amount_style: str  # "rp_dot", "rp_dot_dec", "idr_comma", "bare_dec"
    date_style: str  # "short", "slash", "long", "iso", "en"
    labels: dict[str, str]  # sender, account, holder, reference, amount (label above the amount)
    wallet: bool = False  # destination is a phone number (e-wallet) or none (QRIS)
    qris: bool = False
    fee: bool = False  # shows an admin fee line, a decoy amount
    font: str = "dejavu"


def _labels(sender: str, account: str, holder: str, reference: str, amount: str) -> dict[str, str]:
    return {
        "sender": sender,
        "account": account,
        "holder": holder,
        "reference": reference,
        "amount": amount,
    }


LAYOUTS: dict[str, Layout] = {
    "bca": Layout("BCA", "m-Transfer Berhasil", (0, 96, 175), "rp_dot_dec", "slash",
                  _labels("Dari Rekening", "Ke Rekening", "Nama Penerima", "No. Referensi", "Jumlah")),
    "mandiri": Layout("Mandiri", "Transfer Berhasil", (0, 61, 121), "rp_dot", "long",
                      _labels("Sumber Dana", "Rekening Tujuan", "Penerima", "No. Referensi",
                              "Nominal Transfer"), fee=True),
    "bri": Layout("BRI", "Transaksi Berhasil", (0, 82, 156), "rp_dot_dec", "short",
                  _labels("Rekening Sumber", "Nomor Rekening Tujuan", "Nama Tujuan",
                          "No. Ref", "Nominal"), fee=True, font="liberation"),
    "bni": Layout("BNI", "Transfer Berhasil", (240, 112, 33), "idr_comma", "en",
                  _labels("Dari", "Rekening Tujuan", "Nama Penerima", "Reference No",
                          "Jumlah Transfer")),
    "bsi": Layout("BSI", "Transaksi Berhasil", (0, 150, 136), "rp_dot", "short",
                  _labels("Dari", "No. Rekening Tujuan", "Nama Penerima", "ID Transaksi",
                          "Nominal")),
    "cimb": Layout("CIMB Niaga", "Transaksi Sukses", (123, 17, 19), "idr_comma", "short",
                   _labels("Dari Rekening", "Ke Rekening", "Nama Penerima", "No. Referensi",
                           "Jumlah"), font="liberation"),
    "permata": Layout("Permata", "Transaksi Berhasil", (0, 108, 84), "bare_dec", "slash",
                      _labels("Rekening Asal", "Rekening Tujuan", "Nama Penerima",
                              "Nomor Referensi", "Jumlah (IDR)"), fee=True),
    "jago": Layout("Jago", "Transfer Berhasil", (255, 170, 0), "rp_dot", "long",
                   _labels("Dari Kantong", "Ke Rekening", "Nama", "ID Transaksi", "Jumlah")),
    "seabank": Layout("SeaBank", "Transfer Berhasil", (255, 102, 0), "rp_dot", "short",
                      _labels("Dari", "Rekening Tujuan", "Nama Penerima", "No. Transaksi",
                              "Jumlah Transfer"), font="liberation"),
    "blu": Layout("blu", "Transfer Berhasil", (0, 160, 233), "rp_dot", "iso",
                  _labels("Dari", "Rekening Tujuan", "Penerima", "No. Referensi", "Nominal")),
    "gopay": Layout("GoPay", "Transfer berhasil", (0, 170, 19), "rp_dot", "long",
                    _labels("Dari", "Ke", "Nama", "ID Transaksi", "Total"), wallet=True),
    "ovo": Layout("OVO", "Transfer Berhasil", (76, 47, 146), "rp_dot", "short",
                  _labels("Sumber", "Nomor Tujuan", "Penerima", "No. Referensi", "Nominal"),
                  wallet=True, fee=True),
    "dana": Layout("DANA", "Kirim Uang Berhasil", (17, 141, 233), "rp_dot", "short",
                   _labels("Dari", "Ke Nomor", "Nama Penerima", "ID Transaksi", "Total Bayar"),
                   wallet=True, font="liberation"),
    "shopeepay": Layout("ShopeePay", "Transfer Berhasil", (238, 77, 45), "rp_dot", "slash",
                        _labels("Dari", "Ke", "Nama Penerima", "No. Transaksi", "Jumlah"),
                        wallet=True),
    "qris": Layout("QRIS", "Pembayaran Berhasil", (200, 16, 46), "rp_dot_dec", "short",
                   _labels("Dibayar Dengan", "NMID", "Merchant", "No. Referensi",
                           "Total Pembayaran"), qris=True),
}  # fmt: skip


@dataclass(frozen=True, slots=True)
class Truth:
    """What the screenshot says; a field the layout does not show is None."""

    amount: int
    when: datetime  # to the minute
    sender: str
    account: str | None  # digits only
    holder: str
    bank: str
    status: str
    reference: str


@dataclass(slots=True)
class Sample:
    name: str
    layout: str
    variant: str
    image: Image.Image
    truth: Truth
    meta: dict[str, object] = field(default_factory=dict)


def format_amount(amount: int, style: str) -> str:
    dotted = f"{amount:,}".replace(",", ".")
    if style == "rp_dot":
        return f"Rp {dotted}" if amount % 2 else f"Rp{dotted}"
    if style == "rp_dot_dec":
        return f"Rp {dotted},00"
    if style == "idr_comma":
        return f"IDR {amount:,}.00" if amount % 2 else f"IDR{amount:,}.00"
    return f"{dotted},00"


def format_when(when: datetime, style: str) -> str:
    if style == "slash":
        return when.strftime("%d/%m/%Y %H:%M:%S")
    if style == "long":
        return f"{when.day} {MONTHS_LONG[when.month - 1]} {when.year}, {when:%H:%M} WIB"
    if style == "iso":
        return when.strftime("%Y-%m-%d %H:%M:%S")
    if style == "en":
        return when.strftime("%d %b %Y %H:%M:%S")
    return f"{when:%d} {MONTHS_ID[when.month - 1]} {when.year} {when:%H:%M:%S} WIB"


def _font(layout: Layout, size: int, bold: bool = False) -> ImageFont.FreeTypeFont:
    return _load_font(layout.font, size, bold)


@lru_cache
def _load_font(family: str, size: int, bold: bool) -> ImageFont.FreeTypeFont:
    if family == "liberation" and DEBIAN_FONTS.is_dir():
        name = "LiberationSans-Bold.ttf" if bold else "LiberationSans-Regular.ttf"
        return ImageFont.truetype(str(DEBIAN_FONTS / name), size)
    name = "DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf"
    return ImageFont.truetype(str(FONTS / name), size)


def make_truth(layout_key: str, rng: random.Random) -> Truth:
    layout = LAYOUTS[layout_key]
    amount = rng.choice([150_000, 175_000, 250_000, 350_000]) + rng.randint(1, 999)
    when = datetime(2026, 11, 20, 6, 0) + timedelta(minutes=rng.randint(0, 60 * 24 * 10))
    if layout.qris:
        account = None
    elif layout.wallet:
        account = "08" + "".join(str(rng.randint(0, 9)) for _ in range(rng.choice([9, 10])))
    else:
        account = "".join(str(rng.randint(0, 9)) for _ in range(rng.choice([10, 13])))
    reference = "".join(str(rng.randint(0, 9)) for _ in range(rng.choice([12, 16])))
    if layout_key in ("dana", "gopay", "ovo"):
        reference = rng.choice(["2026", "TRX"]) + reference
    sender = f"{rng.choice(FIRST)} {rng.choice(LAST)}".upper()
    holder = "FUNRUN NUSANTARA" if layout.qris else rng.choice(HOLDERS)
    status = "Sukses" if "Sukses" in layout.title else "Berhasil"
    return Truth(amount, when, sender, account, holder, layout.bank, status, reference)


def _shown_account(truth: Truth, layout: Layout) -> str:
    digits = truth.account or ""
    if layout.qris:
        return "ID" + truth.reference[:13]
    if layout.wallet:
        return f"{digits[:4]}-{digits[4:8]}-{digits[8:]}"
    if len(digits) == 10 and layout.bank in ("Mandiri", "BNI"):
        return f"{digits[:3]}-{digits[3:6]}-{digits[6:]}"
    return digits


def render(
    layout_key: str, truth: Truth, *, dark: bool = False, status_bar: bool = False
) -> Image.Image:
    """Draw the success screen of ``layout_key`` showing ``truth``."""
    layout = LAYOUTS[layout_key]
    width, height = SIZE
    bg, ink, soft = (
        ((18, 18, 20), (236, 236, 240), (150, 150, 160))
        if dark
        else ((255, 255, 255), (24, 24, 28), (110, 112, 120))
    )
    image = Image.new("RGB", SIZE, bg)
    draw = ImageDraw.Draw(image)
    top = 0
    if status_bar:
        _status_bar(draw, layout, ink if dark else (30, 30, 30), bg)
        top = 44
    draw.rectangle((0, top, width, top + 120), fill=layout.colour)
    draw.text((36, top + 40), layout.bank, fill="white", font=_font(layout, 38, True))
    y = top + 170
    draw.ellipse((width // 2 - 44, y, width // 2 + 44, y + 88), fill=(34, 170, 84))
    draw.line((width // 2 - 20, y + 46, width // 2 - 4, y + 62, width // 2 + 24, y + 28),
              fill="white", width=8)  # fmt: skip
    y += 120
    _centre(draw, layout.title, y, _font(layout, 36, True), ink)
    y += 70
    _centre(draw, layout.labels["amount"], y, _font(layout, 26), soft)
    y += 40
    _centre(draw, format_amount(truth.amount, layout.amount_style), y, _font(layout, 56, True), ink)
    y += 100
    _centre(draw, format_when(truth.when, layout.date_style), y, _font(layout, 26), soft)
    y += 80
    rows = [
        (
            layout.labels["sender"],
            f"{truth.sender}\n****{random.Random(truth.reference).randint(1000, 9999)}",
        ),
        (layout.labels["account"], _shown_account(truth, layout)),
        (layout.labels["holder"], truth.holder),
        ("Bank Tujuan" if not layout.wallet and not layout.qris else "Layanan", layout.bank),
    ]
    if layout.fee:
        rows.append(
            (
                "Biaya Admin",
                format_amount(2_500 if layout.bank == "Mandiri" else 0, layout.amount_style),
            )
        )
    rows.append((layout.labels["reference"], truth.reference))
    for label, value in rows:
        y = _row(draw, layout, label, value, y, ink, soft, width)
    draw.rounded_rectangle((36, height - 130, width - 36, height - 50), 18, fill=layout.colour)
    _centre(draw, "Selesai", height - 110, _font(layout, 30, True), (255, 255, 255))
    return image


def _status_bar(
    draw: ImageDraw.ImageDraw, layout: Layout, ink: tuple[int, int, int], bg: tuple[int, int, int]
) -> None:
    draw.rectangle((0, 0, SIZE[0], 44), fill=bg)
    draw.text((24, 10), "20:41", fill=ink, font=_font(layout, 22, True))
    draw.text((SIZE[0] - 150, 10), "4G  87%", fill=ink, font=_font(layout, 22))


def _centre(
    draw: ImageDraw.ImageDraw, text: str, y: int, font: ImageFont.FreeTypeFont, fill: object
) -> None:
    width = draw.textlength(text, font=font)
    draw.text(((SIZE[0] - width) / 2, y), text, fill=fill, font=font)


def _row(draw, layout, label, value, y, ink, soft, width) -> int:  # noqa: ANN001
    draw.text((40, y), label, fill=soft, font=_font(layout, 24))
    font = _font(layout, 26, True)
    for line in value.split("\n"):
        text_width = draw.textlength(line, font=font)
        draw.text((width - 40 - text_width, y), line, fill=ink, font=font)
        y += 36
    draw.line((40, y + 14, width - 40, y + 14), fill=soft, width=1)
    return y + 34


def apply_variant(image: Image.Image, variant: str, rng: random.Random) -> Image.Image:
    """Turn a clean screenshot into what a runner may send instead."""
    if variant == "cropped":
        w, h = image.size
        return image.crop(
            (rng.randint(0, 20), rng.randint(60, 160), w - rng.randint(0, 20), h - 150)
        )
    if variant == "jpeg":
        small = image.resize(
            (image.width * 2 // 3, image.height * 2 // 3), Image.Resampling.BILINEAR
        )
        return _recompress(small, 35)
    if variant in ("angle", "blur"):
        photo = _photograph(image, rng)
        if variant == "blur":
            photo = photo.filter(ImageFilter.GaussianBlur(1.6))
        return _recompress(photo, 70)
    return image


def _recompress(image: Image.Image, quality: int) -> Image.Image:
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=quality)
    buffer.seek(0)
    return Image.open(buffer).convert("RGB")


def _photograph(image: Image.Image, rng: random.Random) -> Image.Image:
    """The screen shot with a phone camera: a desk around it, a tilt and a little perspective."""
    w, h = image.size
    desk = Image.new("RGB", (w + 160, h + 160), (92, 84, 76))
    desk.paste(image, (80, 80))
    angle = rng.uniform(-6, 6)
    tilted = desk.rotate(angle, resample=Image.Resampling.BICUBIC, fillcolor=(92, 84, 76))
    dx, dy = rng.uniform(20, 50), rng.uniform(10, 30)
    W, H = tilted.size  # noqa: N806
    quad = (dx, dy, 0, H, W, H - dy / 2, W - dx / 2, 0)  # source corners: TL, BL, BR, TR
    return tilted.transform((W, H), Image.Transform.QUAD, quad, Image.Resampling.BICUBIC)


def sample(layout_key: str, variant: str, seed: int = 0) -> Sample:
    """One screenshot of ``layout_key`` in ``variant`` with its ground truth."""
    rng = random.Random(f"{layout_key}:{variant}:{seed}")
    truth = make_truth(layout_key, rng)
    dark = variant == "dark" or (variant in ("angle", "blur") and rng.random() < 0.3)
    image = render(layout_key, truth, dark=dark, status_bar=variant == "statusbar")
    image = apply_variant(image, variant, rng)
    name = f"{layout_key}-{variant}-{seed}"
    return Sample(name, layout_key, variant, image, truth, {"dark": dark})


def corpus(
    seeds: int = 1, variants: tuple[str, ...] = VARIANTS, layouts: tuple[str, ...] | None = None
) -> Iterator[Sample]:
    """Every layout x variant x seed, in a stable order."""
    for seed in range(seeds):
        for layout_key in layouts or tuple(LAYOUTS):
            for variant in variants:
                yield sample(layout_key, variant, seed)


def save_all() -> None:  # pragma: no cover - for looking at the corpus
    import sys

    out = Path(sys.argv[1] if len(sys.argv) > 1 else "/tmp/ocr-corpus")
    out.mkdir(parents=True, exist_ok=True)
    for item in corpus():
        item.image.save(out / f"{item.name}.png")
    print(out)


if __name__ == "__main__":  # pragma: no cover
    save_all()


def _same_text(a: str, b: str) -> bool:
    return "".join(a.upper().split()) == "".join(b.upper().split())


def score(reading: object, truth: Truth) -> dict[str, str]:
    """Per field: "hit" (right), "wrong" (reported but wrong), "miss" (not reported), "none"
    (nothing to read and nothing reported) or "extra" (reported though the screen shows none)."""
    expected = {
        "amount": truth.amount,
        "when": truth.when.replace(second=0, microsecond=0),
        "sender": truth.sender,
        "account": truth.account,
        "holder": truth.holder,
        "bank": truth.bank,
        "status": truth.status,
        "reference": truth.reference,
    }
    result = {}
    for name, want in expected.items():
        got = getattr(reading, name)
        if got is None:
            result[name] = "miss" if want is not None else "none"
        elif want is None:
            result[name] = "extra"
        elif isinstance(want, str) and isinstance(got, str):
            result[name] = "hit" if _same_text(got, want) else "wrong"
        else:
            result[name] = "hit" if got == want else "wrong"
    return result
