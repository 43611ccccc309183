"""delivery actors (filled in by its issue)."""
