"""The decision store: every triage decision and redelivery key in one database.

SQLite (embedded, the default) or PostgreSQL (when COMPLAINTFLOW_DATABASE_URL says so).
"""

from complaintflow.store.base import (
    DecisionStore,
    Entry,
    SpikeCheck,
    StoreError,
    StoreRejected,
    StoreUnavailable,
    mention_key,
)
from complaintflow.store.open import DATABASE_URL, default_url, open_store

__all__ = [
    "DATABASE_URL",
    "DecisionStore",
    "Entry",
    "SpikeCheck",
    "StoreError",
    "StoreRejected",
    "StoreUnavailable",
    "default_url",
    "mention_key",
    "open_store",
]
