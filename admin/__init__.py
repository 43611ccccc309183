"""Organiser web admin and check-in pages (Jinja). Imports core and workers (only to .send())."""
