"""Real peers the notifier's tests start: an HTTP webhook receiver and an SMTP server."""
