"""Feature engineering: the 69 features, offline over a dataset and online per customer, from one code path."""
