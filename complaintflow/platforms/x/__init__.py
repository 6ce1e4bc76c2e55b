"""X: facts, webhooks (Account Activity), the API v2 adapter and its emulated routes."""
