"""Actions (``uses:``): composite and JavaScript actions, as steps (rules §16).

:mod:`._definition` holds what an ``action.yml`` says once it is read and
validated (the workflow wing reads and fetches it); :mod:`._run` runs one
phase of an action (``pre``, ``main`` or ``post``) inside a step, with the
shell executor for every process. The engine calls
:func:`trio_steps._actions._run.run_action`.
"""
