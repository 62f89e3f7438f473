"""Shell steps: from a script string to a conclusion, and nothing left behind.

Reads only the model (:class:`~trio_steps._context.StepRun`); the engine
calls :func:`trio_steps._shell._execution.run_shell`.
"""
