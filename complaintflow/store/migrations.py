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
    (
        2,
        (
            # Spike alerts: one row per spike of a policy's complaints; open while ended_at is
            # NULL, so a spike that lasts several checks is alerted once.
            """
            CREATE TABLE spikes (
                policy TEXT NOT NULL,
                started_at TEXT NOT NULL,
                ended_at TEXT,
                complaints INTEGER NOT NULL,
                expected DOUBLE PRECISION NOT NULL,
                PRIMARY KEY (policy, started_at)
            )
            """,
        ),
    ),
)

LATEST = MIGRATIONS[-1][0]
