"""Durable case workflows: a compiled playbook, run step by step with supervisor approvals."""
