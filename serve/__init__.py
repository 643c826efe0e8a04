"""Ray Serve deployments: scoring, query and health endpoints over synfinance."""
