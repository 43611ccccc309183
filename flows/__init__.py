"""Conversation engine and flow definitions. Imports core and transitions only."""
