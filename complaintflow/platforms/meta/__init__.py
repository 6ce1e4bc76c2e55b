"""Meta: Facebook Pages and Instagram: facts, webhooks, the Graph adapter, emulated routes."""
