"""The store's schema, as numbered migrations applied once each, in order, on start-up.

Plain SQL both SQLite and PostgreSQL accept; a new version is appended, never edited.
"""

MIGRATIONS: tuple[tuple[int, tuple[str, ...]], ...] = (
    (
        1,
        (
            # One row per mention (platform and post id): the unique key is what makes any
            # number of replicas and any redelivery order write a mention once.
            """
            CREATE TABLE decisions (
                mention_key TEXT PRIMARY KEY,
                platform TEXT NOT NULL,
                mention_id TEXT NOT NULL,
                policy TEXT NOT NULL,
                route TEXT,
                score DOUBLE PRECISION NOT NULL,
                case_id TEXT,
                decided_at TEXT NOT NULL,
                record TEXT NOT NULL
            )
            """,
            "CREATE INDEX decisions_by_time ON decisions (decided_at)",
            "CREATE INDEX decisions_by_policy ON decisions (policy, decided_at)",
        ),
    ),
)

LATEST = MIGRATIONS[-1][0]
