"""Debugging tools behind `synfinance debug`: traces as trees, a transaction explained, profiles."""
