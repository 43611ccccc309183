"""Receipts (kwitansi) as PDF: one paid registration, or a group paid together (corporate teams).

The Indonesian layout every finance department expects: nomor kwitansi, telah terima dari, uang
sejumlah (the amount in words), untuk pembayaran, the amount in figures, tanggal, and who received
it (ORGANISER_NAME, else "Panitia <event>"). The number is derived from the registration number,
so a receipt printed twice carries the same number. fpdf2 draws it with the DejaVu fonts the
e-tickets use (names in any script the font covers).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from core.config import get_settings
from core.enums import RegistrationStatus
from core.errors import InvalidSetting
from core.formatting import rupiah
from core.fulfilment.ticket_image import BOLD, REGULAR
from core.models import Registration

if TYPE_CHECKING:
    from fpdf import FPDF

MONTHS = ("Januari", "Februari", "Maret", "April", "Mei", "Juni", "Juli", "Agustus", "September",
          "Oktober", "November", "Desember")  # fmt: skip
MAX_GROUP = 200


@dataclass(frozen=True, slots=True)
class Receipt:
    number: str
    received_from: str
    amount: int
    amount_words: str
    purpose: list[str]
    day: str
    organiser: str


def terbilang(amount: int) -> str:
    """250507 -> "Dua Ratus Lima Puluh Ribu Lima Ratus Tujuh Rupiah" (the kwitansi's wording)."""
    from num2words import num2words  # loaded on the first receipt, not at start-up (see _page)

    return f"{num2words(int(amount), lang='id')} rupiah".title()


def tanggal(value: date) -> str:
    return f"{value.day} {MONTHS[value.month - 1]} {value.year}"


def _amount(reg: Registration) -> int:
    return reg.amount_received if reg.amount_received is not None else reg.amount_due


def receipt_for(registrations: list[Registration], *, received_from: str = "") -> Receipt:
    """The receipt of ``registrations`` (one, or a group from one event); all must be paid."""
    if not registrations:
        raise InvalidSetting("no registration to write a receipt for")
    if len(registrations) > MAX_GROUP:
        raise InvalidSetting(f"at most {MAX_GROUP} registrations on one receipt")
    if any(r.status != RegistrationStatus.PAID for r in registrations):
        raise InvalidSetting("a receipt is only written for paid registrations")
    if len({r.event_id for r in registrations}) > 1:
        raise InvalidSetting("one receipt covers one event")
    first, event = registrations[0], registrations[0].event
    zone = ZoneInfo(event.timezone or "Asia/Jakarta")
    paid = max((r.paid_at for r in registrations if r.paid_at), default=None)
    day = paid.astimezone(zone).date() if paid else event.race_date
    single = len(registrations) == 1
    number = f"KW-{first.number}" if single else f"KW-{first.number}-G{len(registrations)}"
    purpose = [
        f"Pendaftaran {event.name}" + ("" if single else f" untuk {len(registrations)} peserta:")
    ]
    purpose += [f"{r.category.code} · {r.participant.full_name} · No. {r.number}"
                + (f" · BIB {r.bib}" if r.bib else "") + (f" · {rupiah(_amount(r))}" if not single else "")
                for r in registrations]  # fmt: skip
    total = sum(_amount(r) for r in registrations)
    organiser = get_settings().organiser_name or f"Panitia {event.name}"
    return Receipt(number, received_from.strip() or first.participant.full_name, total,
                   terbilang(total), purpose, tanggal(day), organiser)  # fmt: skip


def _page() -> FPDF:
    """An A5 landscape page with the DejaVu fonts.

    fpdf2 is imported here, on the first receipt: with numpy, fontTools and num2words under it, it
    was ~60 MiB of every API and worker process's RSS at start-up (issue 12, RSS < 150 MB).
    """
    from fpdf import FPDF

    pdf = FPDF(orientation="landscape", unit="mm", format=(148, 210))
    pdf.add_font("DejaVu", "", str(REGULAR))
    pdf.add_font("DejaVu", "B", str(BOLD))
    pdf.set_auto_page_break(auto=True, margin=12)
    pdf.set_margins(14, 12, 14)
    return pdf


def render_pdf(receipt: Receipt) -> bytes:
    """The receipt as an A5 landscape PDF."""
    pdf = _page()
    pdf.add_page()
    pdf.set_font("DejaVu", "B", 20)
    pdf.cell(0, 10, "KWITANSI", align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("DejaVu", "", 10)
    pdf.cell(0, 6, f"No. {receipt.number}", align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    _field(pdf, "Telah terima dari", receipt.received_from)
    _field(pdf, "Uang sejumlah", receipt.amount_words, shaded=True)
    _field(pdf, "Untuk pembayaran", "\n".join(receipt.purpose))
    pdf.ln(4)
    y = pdf.get_y()
    pdf.set_font("DejaVu", "B", 16)
    pdf.set_fill_color(235, 235, 235)
    pdf.cell(70, 12, rupiah(receipt.amount), border=1, align="C", fill=True)
    pdf.set_xy(pdf.w - pdf.r_margin - 80, y)
    pdf.set_font("DejaVu", "", 10)
    signature = f"Tanggal: {receipt.day}\nPenerima,\n\n\n\n{receipt.organiser}"
    pdf.multi_cell(80, 6, signature, align="C")
    if pdf.page == 1:  # a frame around a one-page receipt (a long group list runs on)
        pdf.rect(8, 8, pdf.w - 16, max(pdf.get_y() + 4, 90) - 8)
    return bytes(pdf.output())


def _field(pdf: FPDF, label: str, value: str, *, shaded: bool = False) -> None:
    pdf.set_font("DejaVu", "", 10)
    pdf.cell(42, 7, label)
    pdf.cell(4, 7, ":")
    pdf.set_font("DejaVu", "B", 10)
    if shaded:
        pdf.set_fill_color(235, 235, 235)
    pdf.multi_cell(0, 7, value, fill=shaded, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(1)
