"""Machinery shared by every device machine: the Machine base, security checks, logs, alerts."""
