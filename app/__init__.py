"""Composition root: builds the FastAPI app and the `funrun` CLI. Nothing imports app."""
