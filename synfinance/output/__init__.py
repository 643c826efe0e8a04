"""File formats and the on-disk dataset layout: Parquet, CSV, JSON Lines, atomic writes, the manifest."""
