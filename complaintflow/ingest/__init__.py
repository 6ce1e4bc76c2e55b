"""Ingest: platform webhooks in, triaged mentions out (cases started, remarks logged)."""
