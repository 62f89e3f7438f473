"""trio_steps._shell: see the modules inside."""
