"""Serve the app with uvicorn, bounded: ``python -m app.server`` (what ``make run`` runs)."""
