"""What a runner can register for: events, categories, jersey stock, payment settings (setup) and
the frozen snapshot the conversation reads (catalog)."""
