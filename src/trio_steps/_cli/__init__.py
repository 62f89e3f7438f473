"""trio_steps._cli: see the modules inside."""
