"""Thin entry points, one per DVC stage: parse params, call the library, write outputs."""
