"""Fraud patterns: one class per file; defining a class registers it."""
