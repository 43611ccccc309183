"""conversations actors (filled in by its issue)."""
