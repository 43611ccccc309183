"""sweeper actors (filled in by its issue)."""
