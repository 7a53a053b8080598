"""Search-specific agent terms: the LTR model, outcome models for FBE, the FBE
backup and the reward-shaping potentials."""
