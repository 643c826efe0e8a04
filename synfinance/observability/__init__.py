"""What SynFinance tells operators about itself: structured logs, the metrics catalogue, process memory."""
