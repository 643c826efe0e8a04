"""Ray actors and the streaming pipeline that run synfinance stages across cores and nodes."""
