"""Operating SynFinance's monitoring: dashboards generated from code, the local Prometheus stack, snapshots."""
