"""What the tests share: fixtures, the few policies, and helpers (never a test module).

`fixtures` is loaded for every test by tests/conftest.py; the other modules are imported.
"""
