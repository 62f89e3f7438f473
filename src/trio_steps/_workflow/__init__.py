"""Workflow files: YAML with positions to a validated :class:`~trio_steps.Job`.

A front end over the model: it builds definitions and never runs them.
"""
