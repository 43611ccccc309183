"""The verifier's "amount received" field: digits only, and only the ones int() reads."""

from admin.queue import _parse_amount


def test_amount_received_reads_ascii_digits_and_ignores_superscripts() -> None:
    assert _parse_amount("Rp 150.000") == 150000
    assert (
        _parse_amount("²") is None
    )  # str.isdigit() says yes, int() refuses: found by schemathesis
    assert _parse_amount("1²0") == 10
    assert _parse_amount("") is None
