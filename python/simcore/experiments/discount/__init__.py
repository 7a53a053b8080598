"""discount reproduction: config, run, report."""
