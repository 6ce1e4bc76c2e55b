"""Development kit: the bundled sample stream of mentions (and, later, the platform emulator)."""

from importlib import resources
from pathlib import Path

SAMPLE_STREAM = "sample_mentions.jsonl"


def sample_stream_path() -> Path:
    """The bundled sample stream: realistic mentions of Northwind Home, one JSON per line."""
    return Path(str(resources.files("complaintflow.devkit").joinpath(SAMPLE_STREAM)))
