"""`python -m complaintflow` runs the command line."""

from complaintflow.cli import entry_point

entry_point()
