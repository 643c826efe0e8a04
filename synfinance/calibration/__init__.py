"""Realism measured: each figure of the calibration table (config/calibration.yaml) on a dataset."""
