"""Utilities shared by every layer: argument checks, plain-value conversion, config
dictionaries and progress bars.  Knows no domain."""
