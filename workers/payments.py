"""payments actors (filled in by its issue)."""
