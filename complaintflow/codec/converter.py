"""The data converter every client and worker shares: Temporal's default, except that a
refused supervisor update carries its reason without the Python stack behind it.

It lives apart from the worker so that clients (ingest, the supervisor CLI) can use it
without importing the worker, its workflows' activities or any platform adapter.
"""

from __future__ import annotations

import dataclasses

from temporalio.api.failure.v1 import Failure
from temporalio.converter import DataConverter, DefaultFailureConverter, PayloadConverter

from complaintflow.workflows.messages import Refused


class PlainRefusals(DefaultFailureConverter):
    """A refused update shows the supervisor its reason, not the Python stack behind it."""

    def to_failure(
        self, exception: BaseException, payload_converter: PayloadConverter, failure: Failure
    ) -> None:
        super().to_failure(exception, payload_converter, failure)
        if isinstance(exception, Refused):
            failure.stack_trace = ""


# Clients that run workers (and so validate updates) connect with this converter.
DATA_CONVERTER = dataclasses.replace(DataConverter.default, failure_converter_class=PlainRefusals)
