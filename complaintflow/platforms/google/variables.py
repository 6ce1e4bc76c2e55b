"""Google Business Profile's environment variables: its rows in the settings table
(docs/configuration.md), gathered by complaintflow/settings.py. Pure data."""

from complaintflow.platforms.spec import Variable

# The heading its variables are listed under (a webhook's secret is listed with ingest's).
GROUP = "Google Business Profile"

VARIABLES: tuple[Variable, ...] = (
    Variable(
        "COMPLAINTFLOW_GBP_API_URL",
        "https://mybusiness.googleapis.com",
        "worker, doctor (platforms/google/adapter.py)",
        "The Google Business Profile API's base URL.",
    ),
    Variable(
        "COMPLAINTFLOW_GBP_CLIENT_ID",
        "(none: review replies unconfigured)",
        "worker, doctor (platforms/google/adapter.py)",
        "The Google OAuth client id.",
    ),
    Variable(
        "COMPLAINTFLOW_GBP_CLIENT_SECRET",
        "(none)",
        "worker, doctor (platforms/google/adapter.py)",
        "The Google OAuth client secret.",
    ),
    Variable(
        "COMPLAINTFLOW_GBP_REFRESH_TOKEN",
        "(none)",
        "worker, doctor (platforms/google/adapter.py, platforms/credentials.py)",
        "The Google OAuth refresh token (offline access) access tokens are made from.",
    ),
    Variable(
        "COMPLAINTFLOW_GOOGLE_TOKEN_URL",
        "https://oauth2.googleapis.com/token",
        "worker, doctor (platforms/google/adapter.py)",
        "Where Google access tokens are refreshed.",
    ),
)
