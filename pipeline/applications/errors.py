"""The applications' one error type: bad input, reported as one line and exit status 2."""
from __future__ import annotations


class AppError(ValueError):
    """Bad input to an application: one line naming the file (or argument) and the problem."""
