"""Meta's (Facebook and Instagram) environment variables: its rows in the settings table
(docs/configuration.md), gathered by complaintflow/settings.py. Pure data."""

from complaintflow.platforms.spec import Variable

# The heading its variables are listed under (a webhook's secret is listed with ingest's).
GROUP = "Facebook and Instagram (Meta Graph API)"

VARIABLES: tuple[Variable, ...] = (
    Variable(
        "COMPLAINTFLOW_META_APP_SECRET",
        "(none: Meta webhooks refused)",
        "serve (platforms/meta/webhooks.py)",
        "The Meta app secret: verifies the X-Hub-Signature-256 of Facebook/Instagram posts.",
        webhook=True,
    ),
    Variable(
        "COMPLAINTFLOW_META_VERIFY_TOKEN",
        "(none: Meta's subscription check refused)",
        "serve (platforms/meta/webhooks.py)",
        "The token Meta echoes when it verifies the webhook subscription.",
        webhook=True,
    ),
    Variable(
        "COMPLAINTFLOW_GRAPH_API_VERSION",
        "v24.0",
        "worker, doctor (platforms/meta/adapter.py)",
        "The Graph API version in the default COMPLAINTFLOW_GRAPH_API_URL.",
    ),
    Variable(
        "COMPLAINTFLOW_GRAPH_API_URL",
        "https://graph.facebook.com/<COMPLAINTFLOW_GRAPH_API_VERSION>",
        "worker, doctor (platforms/meta/adapter.py)",
        "The Graph API's base URL (the emulator's in development).",
    ),
    Variable(
        "COMPLAINTFLOW_GRAPH_TOKEN",
        "(none: Facebook/Instagram steps unconfigured)",
        "worker, doctor (platforms/meta/adapter.py)",
        "The Page access token Facebook and Instagram calls are made with.",
    ),
    Variable(
        "COMPLAINTFLOW_INSTAGRAM_PAGE_ID",
        "(none)",
        "worker (platforms/meta/adapter.py)",
        "The Facebook Page linked to the Instagram account (Instagram private replies).",
    ),
)
