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
    (
        3,
        (
            # One row per mention and brand: a post delivered to two brands of one deployment
            # (X sends one delivery per subscribed account) is one case or remark for each,
            # and a redelivery to the same brand is still recognised. The key was the
            # mention's alone; the table is rebuilt with (policy, mention_key) as its key,
            # keeping every row.
            """
            CREATE TABLE decisions_by_brand (
                policy TEXT NOT NULL,
                mention_key TEXT NOT NULL,
                platform TEXT NOT NULL,
                mention_id TEXT NOT NULL,
                route TEXT,
                score DOUBLE PRECISION NOT NULL,
                case_id TEXT,
                decided_at TEXT NOT NULL,
                record TEXT NOT NULL,
                PRIMARY KEY (policy, mention_key)
            )
            """,
            "INSERT INTO decisions_by_brand (policy, mention_key, platform, mention_id, route,"
            " score, case_id, decided_at, record) SELECT policy, mention_key, platform,"
            " mention_id, route, score, case_id, decided_at, record FROM decisions",
            "DROP TABLE decisions",
            "ALTER TABLE decisions_by_brand RENAME TO decisions",
            "CREATE INDEX decisions_by_time ON decisions (decided_at)",
            "CREATE INDEX decisions_by_policy ON decisions (policy, decided_at)",
            # Readiness writes a probe row here and rolls it back: a store that cannot take
            # a write (a full disk) is not ready, though it still answers reads.
            "CREATE TABLE store_probes (pad TEXT NOT NULL)",
        ),
    ),
    (
        4,
        (
            # Supervisors' decisions as labels: one row per brand and mention, whatever
            # decided it first (a dismiss sent twice, or racing an approval, is one label;
            # a redelivered activity or a second replica writes nothing new).
            """
            CREATE TABLE labels (
                policy TEXT NOT NULL,
                mention_key TEXT NOT NULL,
                platform TEXT NOT NULL,
                mention_id TEXT NOT NULL,
                case_id TEXT,
                text TEXT NOT NULL,
                label INTEGER NOT NULL,
                severity INTEGER,
                source TEXT NOT NULL,
                labelled_by TEXT NOT NULL,
                labelled_at TEXT NOT NULL,
                PRIMARY KEY (policy, mention_key)
            )
            """,
            "CREATE INDEX labels_by_time ON labels (policy, labelled_at)",
        ),
    ),
    (
        5,
        (
            # Each case a brand opened, by its short reference (`{case.ref}`, what a customer
            # quotes in a DM or an email) and by its author on its platform (whose private
            # messages are that case's contact). One row per brand and reference: a
            # reference two cases share maps to the one opened last.
            """
            CREATE TABLE case_refs (
                policy TEXT NOT NULL,
                ref TEXT NOT NULL,
                case_id TEXT NOT NULL,
                platform TEXT NOT NULL,
                author_id TEXT NOT NULL,
                opened_at TEXT NOT NULL,
                PRIMARY KEY (policy, ref)
            )
            """,
            "CREATE INDEX case_refs_by_author ON case_refs (policy, platform, author_id)",
        ),
    ),
    (
        6,
        (
            # Each private message (X DM event id, Messenger / Instagram `message.mid`) ingest
            # took, by brand and platform + message id, like mentions: a redelivered message
            # is told to its case once. `case_id` is NULL until a case took it.
            """
            CREATE TABLE private_messages (
                policy TEXT NOT NULL,
                message_key TEXT NOT NULL,
                case_id TEXT,
                received_at TEXT NOT NULL,
                PRIMARY KEY (policy, message_key)
            )
            """,
            # Who a case's customer is in a private conversation: on Messenger and Instagram
            # a commenter's private reply answers with the PSID / IGSID (`recipient_id`),
            # which is who the customer's later messages come from. The latest case wins.
            """
            CREATE TABLE case_authors (
                policy TEXT NOT NULL,
                platform TEXT NOT NULL,
                author_id TEXT NOT NULL,
                case_id TEXT NOT NULL,
                recorded_at TEXT NOT NULL,
                PRIMARY KEY (policy, platform, author_id)
            )
            """,
        ),
    ),
)

LATEST = MIGRATIONS[-1][0]
