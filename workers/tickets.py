"""tickets actors (filled in by its issue)."""
