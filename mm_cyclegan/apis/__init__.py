"""User-facing helpers (training entry points, inference)."""
