"""Activities: the I/O a case performs, registered under the names in workflows/registry.py."""
