"""trio_steps._trace: see the modules inside."""
