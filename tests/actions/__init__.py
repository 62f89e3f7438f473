"""Tests; helpers import by package."""
