"""Helpers shared by all of mm_cyclegan (no registered components)."""
