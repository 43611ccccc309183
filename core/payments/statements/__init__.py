"""Bank statements: parse an export (bank_csv), match credits to what runners owe (credits,
matching) and approve the matched lines (approval)."""
