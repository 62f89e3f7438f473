"""trio_steps._engine: see the modules inside."""
