"""The engine: one job's main sequence, its background steps, stopping and flushing.

Reads the model (definitions, results, events) and runs shell steps through
:mod:`trio_steps._shell`; nothing here imports the workflow loader or the
command line. See ``docs/source/internals.rst``.
"""
