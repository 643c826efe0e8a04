"""Anomaly patterns: unusual but not necessarily fraud; one class per file."""
