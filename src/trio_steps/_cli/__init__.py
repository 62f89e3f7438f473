"""The ``trio-steps`` command: composes the public functions of the package."""
