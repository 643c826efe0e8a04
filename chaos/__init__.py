"""Fault injectors and scenarios used by chaos tests and the `chaos` CLI group."""
