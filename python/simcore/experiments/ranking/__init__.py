"""ranking reproduction: config, run, report."""
