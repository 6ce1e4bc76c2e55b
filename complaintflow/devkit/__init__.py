"""Development kit: the bundled sample stream, the platform emulator (`emulator`), the local
stack behind `complaintflow dev` (`stack`), the stream player (`play`) and `serve` for ASGI apps.
"""

from importlib import resources
from pathlib import Path

SAMPLE_STREAM = "sample_mentions.jsonl"


def sample_stream_path() -> Path:
    """The bundled sample stream: realistic mentions of Northwind Home, one JSON per line."""
    return Path(str(resources.files("complaintflow.devkit").joinpath(SAMPLE_STREAM)))
