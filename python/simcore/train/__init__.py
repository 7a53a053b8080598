"""The training loop, progress display and checkpoints."""
