"""engine_cost reproduction: config, run, report."""
