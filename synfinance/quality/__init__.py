"""Data quality: validators over a dataset, a score, gates, baselines and a regression comparison, a report."""
