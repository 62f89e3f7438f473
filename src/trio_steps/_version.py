"""The version of trio_steps: the one place it is written (the build reads it)."""

__version__ = "0.1.0"
