"""Reading transfer screenshots: amount formats, decoys, dates, labels, normalisation, a corpus slice."""

from __future__ import annotations

from datetime import datetime

import pytest
from PIL import Image

from bench.ocr_corpus import LAYOUTS, VARIANTS, corpus, sample, score
from core.payments.screenshot_reading import normalise as norm
from core.payments.screenshot_reading.engines import Segment, TesseractEngine
from core.payments.screenshot_reading.extract import extract, parse_amount
from core.payments.screenshot_reading.reader import read_image


@pytest.mark.parametrize(
    ("raw", "value"),
    [
        ("175.408", 175408),
        ("175,408.00", 175408),
        ("175.408,00", 175408),
        ("175408", 175408),
        ("1.250.000", 1250000),
        ("175.408,50", None),  # cents: we misread, or it is not a transfer amount
        ("1.234.56", None),
        ("17.54", None),
        ("999", None),
    ],
)
def test_parse_amount(raw: str, value: int | None) -> None:
    assert parse_amount(raw) == value


def seg(text: str, y: int, *, x: int = 40, height: int = 26) -> Segment:
    return Segment(text, (x, y, x + 12 * len(text), y + height), 0.9)


def test_fields_from_labelled_rows() -> None:
    reading = extract(
        [
            seg("BCA", 20, height=38),
            seg("m-Transfer Berhasil", 200, height=36),
            seg("Rp 175.408,00", 300, height=56),
            seg("23/11/2026 08:05:00", 400),
            seg("Dari Rekening", 500), seg("BUDI SANTOSO", 500, x=400),
            seg("Ke Rekening", 560), seg("2680402549", 560, x=400),
            seg("Nama Penerima", 620), seg("YAYASAN LARI NUSANTARA", 620, x=300),
            seg("Biaya Admin", 680), seg("Rp 2.500", 680, x=400),
            seg("No. Referensi", 740), seg("872528295486", 740, x=400),
        ]
    )  # fmt: skip
    assert reading.amount == 175408
    assert reading.when == datetime(2026, 11, 23, 8, 5)
    assert (reading.sender, reading.holder) == ("BUDI SANTOSO", "YAYASAN LARI NUSANTARA")
    assert (reading.account, reading.reference) == ("2680402549", "872528295486")
    assert (reading.bank, reading.status) == ("BCA", "Berhasil")
    assert reading.boxes["amount"][1] == 300


def test_two_amounts_of_the_same_size_give_no_amount() -> None:
    reading = extract([seg("Rp 175.408", 300), seg("Rp 180.000", 400)])
    assert reading.amount is None


def test_the_headline_amount_wins_over_a_small_one() -> None:
    reading = extract([seg("Rp 175.408", 300, height=56), seg("Rp 180.000", 400)])
    assert reading.amount == 175408


def test_failure_word_and_spaceless_rapid_style_text() -> None:
    reading = extract(
        [seg("TransferGagal", 100), seg("IDR 175,099.00", 200, height=50),
         seg("28NoV202609:16:00", 300), seg("NamaPenerima", 400), seg("PTFUNRUN", 400, x=400)]
    )  # fmt: skip
    assert reading.status == "Gagal"
    assert reading.amount == 175099
    assert reading.when == datetime(2026, 11, 28, 9, 16)
    assert reading.holder == "PTFUNRUN"


def test_masked_account_is_not_reported() -> None:
    reading = extract([seg("Ke Rekening", 100), seg("****4572", 100, x=400)])
    assert reading.account is None


def test_dark_mode_is_inverted_and_scaled() -> None:
    dark = Image.new("RGB", (500, 1000), (18, 18, 20))
    out = norm.normalise(dark)
    assert out.inverted and out.image.mode == "L" and out.image.width == norm.TARGET_WIDTH
    assert not norm.normalise(Image.new("RGB", (1000, 2000), "white")).inverted


def test_skew_of_a_tilted_screenshot_is_found() -> None:
    image = sample("bca", "clean").image.convert("L").rotate(-4, fillcolor=255, expand=False)
    assert abs(norm.skew_angle(image) - 4) <= 1.0


def test_corpus_has_every_layout_and_variant() -> None:
    names = {(s.layout, s.variant) for s in corpus(layouts=("ovo",))}
    assert names == {("ovo", v) for v in VARIANTS}
    assert len(LAYOUTS) == 15


# A bounded slice of the corpus through the real engine (~1.5 s an image): clean, dark, a photo.
SLICE = [("bca", "clean"), ("dana", "dark"), ("bni", "angle")]


@pytest.mark.parametrize(("layout", "variant"), SLICE)
def test_tesseract_reads_corpus_slice(layout: str, variant: str) -> None:
    item = sample(layout, variant)
    reading = read_image(item.image, TesseractEngine())
    result = score(reading, item.truth)
    assert result["amount"] == "hit"  # never "wrong"
    assert "wrong" not in result.values()
    assert sum(v == "hit" for v in result.values()) >= 6
    x0, y0, x1, y1 = reading.boxes["amount"]
    assert 0 <= x0 < x1 <= item.image.width and 0 <= y0 < y1 <= item.image.height
