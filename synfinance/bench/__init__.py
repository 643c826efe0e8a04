"""Benchmarks: each measurement runs in a fresh process; reports medians and same-run ratios."""
