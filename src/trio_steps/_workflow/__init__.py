"""trio_steps._workflow: see the modules inside."""
