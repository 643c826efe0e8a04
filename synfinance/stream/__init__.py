"""A real-time transaction stream: generated rows emitted paced to the wall clock, to a sink."""
