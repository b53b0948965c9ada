"""Evaluation fixtures: one intra-op thread, as for the training tests."""
from tests.training.conftest import _one_thread  # noqa: F401
