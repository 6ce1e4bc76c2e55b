"""X's environment variables: its rows in the settings table (docs/configuration.md),
gathered by complaintflow/settings.py. Pure data."""

from complaintflow.platforms.spec import Variable

# The heading its variables are listed under (a webhook's secret is listed with ingest's).
GROUP = "X"

VARIABLES: tuple[Variable, ...] = (
    Variable(
        "COMPLAINTFLOW_X_CONSUMER_SECRET",
        "(none: X webhooks refused)",
        "serve (platforms/x/webhooks.py)",
        "The X app's consumer secret: verifies X's webhook signatures and answers its CRC.",
        webhook=True,
    ),
    Variable(
        "COMPLAINTFLOW_X_API_URL",
        "https://api.x.com",
        "worker, connect, doctor (platforms/x/adapter.py)",
        "The X API's base URL (the emulator's in development).",
    ),
    Variable(
        "COMPLAINTFLOW_X_TOKEN",
        "(none)",
        "worker (platforms/x/adapter.py)",
        "The X app-only bearer token (reads, polling).",
    ),
    Variable(
        "COMPLAINTFLOW_X_CLIENT_ID",
        "(none: replies on X unconfigured)",
        "worker, connect x (platforms/x/adapter.py)",
        "The X OAuth 2.0 client id for the brand's user-context token.",
    ),
    Variable(
        "COMPLAINTFLOW_X_CLIENT_SECRET",
        "(none: a public client)",
        "worker, connect x (platforms/x/adapter.py)",
        "The X OAuth 2.0 client secret (confidential clients).",
    ),
    Variable(
        "COMPLAINTFLOW_X_TOKEN_URL",
        "COMPLAINTFLOW_X_API_URL + /2/oauth2/token",
        "worker, connect x (platforms/x/adapter.py)",
        "Where X OAuth tokens are obtained and refreshed.",
    ),
    Variable(
        "COMPLAINTFLOW_X_AUTHORIZE_URL",
        "https://x.com/i/oauth2/authorize",
        "connect x (platforms/x/adapter.py)",
        "Where `connect x` sends the brand's account to authorise the app.",
    ),
)
