"""Google Business Profile as the emulator serves it: the OAuth token endpoint and the one
reply a review can have (developers.google.com/my-business)."""

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from complaintflow.platforms.emulation import (
    GOOGLE_CLIENT_ID,
    EmulatorState,
    Post,
    RouteRow,
    error,
    oauth_error,
    read_form,
    read_json,
    token_answer,
)
from complaintflow.platforms.google.adapter import GoogleSettings


async def google_token(request: Request, state: EmulatorState) -> Response:
    """POST https://oauth2.googleapis.com/token with grant_type=refresh_token, client_id,
    client_secret (https://developers.google.com/identity/protocols/oauth2/web-server#offline):
    a new access token; Google's refresh token stays the same and is not returned again."""
    form = await read_form(request)
    if form.get("client_id") != GOOGLE_CLIENT_ID or form.get("client_secret") != state.token:
        return oauth_error("invalid_client", "The OAuth client was not found.", 401)
    if form.get("grant_type") != "refresh_token" or form.get("refresh_token") != state.token:
        state.refused_refreshes += 1
        return oauth_error("invalid_grant", "Bad Request")
    state.refreshes += 1
    grant = state.issue("google", state.google_token_lifetime, refresh=False)
    return token_answer(
        grant, "https://www.googleapis.com/auth/business.manage", state.google_token_lifetime
    )


async def gbp_reply(request: Request, state: EmulatorState) -> Response:
    """PUT v4/{name=accounts/*/locations/*/reviews/*}/reply {comment}
    (https://developers.google.com/my-business/reference/rest/v4/accounts.locations.reviews/
    updateReply): creates or replaces the review's one reply; OAuth access token required."""
    review = request.path_params["name"]
    if review not in state.posts:
        return error(404, f"Requested entity was not found: {review}")
    comment = str((await read_json(request)).get("comment", ""))
    if not comment or len(comment) > 4096:
        return error(400, "comment must be 1 to 4096 characters")
    reply_id = f"{review}/reply"
    existing = state.posts.get(reply_id)
    if existing is not None:  # PUT replaces the one reply a review can have
        existing.text = comment
    else:
        state.add_post(
            Post(reply_id, "google_business", state.brand_page_id, comment, in_reply_to=review)
        )
    return JSONResponse({"comment": comment, "updateTime": "2026-01-01T00:00:00Z"})


ROUTES: tuple[RouteRow, ...] = (
    ("/google/token", "google.token", google_token, "POST"),
    ("/gbp/v4/{name:path}/reply", "gbp.reply", gbp_reply, "PUT"),
)
# The credentials each route takes (see emulation._refused); any other: the Graph token.
AUTHS: dict[str, str] = {
    "gbp.reply": "google",
    "google.token": "none",
}


def settings(url: str, token: str) -> GoogleSettings:
    """The adapter's settings for this emulator at `url`, `token` as its fixed secrets."""
    return GoogleSettings(
        url=f"{url}/gbp",
        client_id=GOOGLE_CLIENT_ID,
        client_secret=token,
        refresh_token=token,
        token_url=f"{url}/google/token",
    )
