"""The documented shape of every request the adapters make (method, path, query, body, auth).

Facts copied from the platforms' own descriptions: for X the OpenAPI types of API v2 in the
official TypeScript SDK (xdevplatform/twitter-api-typescript-sdk, src/gen/openapi-types.ts at
0d12a20a) and docs.x.com for the endpoints that file lacks (Direct Messages, OAuth 2.0); for
the others their reference pages, named per entry.
"""

import dataclasses
import re
from typing import Any

# openapi-types.ts: TweetFieldsParameter, UserFieldsParameter, TweetExpansionsParameter.
TWEET_FIELDS = frozenset(
    [
        "attachments",
        "author_id",
        "context_annotations",
        "conversation_id",
        "created_at",
        "edit_controls",
        "edit_history_tweet_ids",
        "entities",
        "geo",
        "id",
        "in_reply_to_user_id",
        "lang",
        "non_public_metrics",
        "organic_metrics",
        "possibly_sensitive",
        "promoted_metrics",
        "public_metrics",
        "referenced_tweets",
        "reply_settings",
        "source",
        "text",
        "withheld",
    ]
)
USER_FIELDS = frozenset(
    [
        "created_at",
        "description",
        "entities",
        "id",
        "location",
        "name",
        "pinned_tweet_id",
        "profile_image_url",
        "protected",
        "public_metrics",
        "url",
        "username",
        "verified",
        "withheld",
    ]
)
EXPANSIONS = frozenset(
    [
        "attachments.media_keys",
        "attachments.poll_ids",
        "author_id",
        "edit_history_tweet_ids",
        "entities.mentions.username",
        "geo.place_id",
        "in_reply_to_user_id",
        "referenced_tweets.id",
        "referenced_tweets.id.author_id",
    ]
)
_LISTS = {"tweet.fields": TWEET_FIELDS, "user.fields": USER_FIELDS, "expansions": EXPANSIONS}
X_ID = r"[0-9]{1,19}"


@dataclasses.dataclass(frozen=True)
class Contract:
    """One documented endpoint."""

    method: str
    path: str  # a regular expression over the path after the emulator's mount point
    auth: frozenset[str]  # user (X user context), app, page (Graph), google-user, basic, none
    source: str
    query: frozenset[str] = frozenset()  # parameters the endpoint documents
    required_query: frozenset[str] = frozenset()
    body: frozenset[str] = frozenset()  # top-level body keys the endpoint documents
    required_body: frozenset[str] = frozenset()
    form: bool = False  # application/x-www-form-urlencoded (OAuth token endpoints)


_MENTION_QUERY = frozenset(
    [
        "since_id",
        "until_id",
        "max_results",
        "pagination_token",
        "start_time",
        "end_time",
        "tweet.fields",
        "expansions",
        "media.fields",
        "poll.fields",
        "user.fields",
        "place.fields",
    ]
)

CONTRACTS: tuple[Contract, ...] = (
    Contract(
        "POST",
        r"/x/2/tweets",
        frozenset({"x-user"}),
        "openapi-types.ts TweetCreateRequest; docs.x.com/x-api/posts/create-post",
        body=frozenset(
            [
                "direct_message_deep_link",
                "for_super_followers_only",
                "geo",
                "media",
                "poll",
                "quote_tweet_id",
                "reply",
                "reply_settings",
                "text",
            ]
        ),
        required_body=frozenset({"text", "reply"}),
    ),
    Contract(
        "GET",
        rf"/x/2/users/{X_ID}/tweets",
        frozenset({"x-user", "app"}),
        "openapi-types.ts usersIdTweets; developer.x.com/en/docs/x-api/tweets/timelines",
        query=_MENTION_QUERY | {"exclude"},
    ),
    Contract(
        "GET",
        rf"/x/2/users/{X_ID}/mentions",
        frozenset({"x-user", "app"}),
        "openapi-types.ts usersIdMentions",
        query=_MENTION_QUERY,
    ),
    Contract(
        "PUT",
        rf"/x/2/tweets/{X_ID}/hidden",
        frozenset({"x-user"}),
        "openapi-types.ts TweetHideRequest {hidden}; docs.x.com/x-api/posts/hide-reply",
        body=frozenset({"hidden"}),
        required_body=frozenset({"hidden"}),
    ),
    Contract(
        "POST",
        rf"/x/2/dm_conversations/with/{X_ID}/messages",
        frozenset({"x-user"}),
        "docs.x.com/x-api/direct-messages/create-dm-message-by-participant-id",
        body=frozenset({"text", "attachments"}),
        required_body=frozenset({"text"}),
    ),
    Contract(
        "GET",
        rf"/x/2/dm_conversations/with/{X_ID}/dm_events",
        frozenset({"x-user"}),
        "docs.x.com/x-api/direct-messages/get-dm-events-for-a-dm-conversation",
        query=frozenset(
            [
                "max_results",
                "pagination_token",
                "event_types",
                "dm_event.fields",
                "expansions",
                "media.fields",
                "user.fields",
                "tweet.fields",
            ]
        ),
    ),
    Contract(
        "GET",
        r"/x/2/users/me",
        frozenset({"x-user"}),
        "openapi-types.ts findMyUser",
        query=frozenset({"user.fields", "expansions", "tweet.fields"}),
    ),
    Contract(
        "POST",
        r"/x/2/oauth2/token",
        frozenset({"none", "basic"}),
        "docs.x.com/fundamentals/authentication/oauth-2-0/user-access-token",
        body=frozenset(
            ["grant_type", "refresh_token", "client_id", "code", "redirect_uri", "code_verifier"]
        ),
        required_body=frozenset({"grant_type", "client_id"}),
        form=True,
    ),
    Contract(
        "POST",
        r"/graph/[0-9_]+/comments",
        frozenset({"app"}),
        "developers.facebook.com/docs/graph-api/reference/object/comments/ (message)",
        body=frozenset({"message", "attachment_url", "attachment_id"}),
        required_body=frozenset({"message"}),
    ),
    Contract(
        "GET",
        r"/graph/[0-9_]+/comments",
        frozenset({"app"}),
        "developers.facebook.com/docs/graph-api/reference/object/comments/ (fields)",
        query=frozenset({"fields", "filter", "order", "limit", "after"}),
    ),
    Contract(
        "POST",
        r"/graph/[0-9]+/replies",
        frozenset({"app"}),
        "developers.facebook.com/docs/instagram-platform/instagram-graph-api/reference/"
        "ig-comment/replies (message)",
        body=frozenset({"message"}),
        required_body=frozenset({"message"}),
    ),
    Contract(
        "GET",
        r"/graph/[0-9]+/replies",
        frozenset({"app"}),
        "ig-comment/replies (fields: id, text, from, ...)",
        query=frozenset({"fields", "limit", "after"}),
    ),
    Contract(
        "POST",
        r"/graph/[0-9]+/messages",
        frozenset({"app"}),
        "developers.facebook.com/docs/messenger-platform/discovery/private-replies/ (recipient"
        ".comment_id); messenger-platform/reference/send-api/ (recipient.id, messaging_type,"
        " tag: messenger-platform/send-messages/message-tags)",
        body=frozenset({"recipient", "message", "messaging_type", "tag"}),
        required_body=frozenset({"recipient", "message"}),
    ),
    Contract(
        "GET",
        r"/graph/[0-9]+/conversations",
        frozenset({"app"}),
        "developers.facebook.com/docs/messenger-platform/conversations",
        query=frozenset({"platform", "user_id", "fields", "limit", "after"}),
        required_query=frozenset({"platform"}),
    ),
    Contract(
        "GET",
        r"/graph/t_[0-9]+",
        frozenset({"app"}),
        "developers.facebook.com/docs/messenger-platform/conversations (messages of one)",
        query=frozenset({"fields"}),
    ),
    Contract(
        "POST",
        r"/graph/[0-9_]+",
        frozenset({"app"}),
        "graph-api/reference/comment (is_hidden); ig-comment (hide)",
        body=frozenset({"is_hidden", "hide", "message"}),
    ),
    Contract(
        "DELETE",
        r"/graph/[0-9_]+",
        frozenset({"app"}),
        "graph-api/reference/comment (Deleting)",
    ),
    Contract(
        "GET",
        r"/graph/me",
        frozenset({"app"}),
        "developers.facebook.com/docs/pages-api/getting-started (/me with a Page token)",
        query=frozenset({"fields"}),
    ),
    Contract(
        "PUT",
        r"/gbp/v4/accounts/[0-9]+/locations/[0-9]+/reviews/[A-Za-z0-9_-]+/reply",
        frozenset({"google-user"}),
        "developers.google.com/my-business/reference/rest/v4/accounts.locations.reviews/"
        "updateReply",
        body=frozenset({"comment"}),
        required_body=frozenset({"comment"}),
    ),
    Contract(
        "POST",
        r"/google/token",
        frozenset({"none"}),
        "developers.google.com/identity/protocols/oauth2/web-server#offline",
        body=frozenset({"grant_type", "refresh_token", "client_id", "client_secret"}),
        required_body=frozenset({"grant_type", "refresh_token", "client_id", "client_secret"}),
        form=True,
    ),
    Contract(
        "POST",
        r"/slack/api/chat\.postMessage",
        frozenset({"app"}),
        "docs.slack.dev/reference/methods/chat.postMessage",
        body=frozenset({"channel", "text", "blocks", "thread_ts", "mrkdwn"}),
        required_body=frozenset({"channel", "text"}),
    ),
    Contract(
        "POST",
        r"/slack/(?!api/).+",
        frozenset({"none"}),
        "docs.slack.dev/messaging/sending-messages-using-incoming-webhooks",
        body=frozenset({"text", "blocks"}),
        required_body=frozenset({"text"}),
    ),
    Contract(
        "POST",
        r"/slack/api/auth\.test",
        frozenset({"app"}),
        "docs.slack.dev/reference/methods/auth.test",
    ),
    Contract(
        "GET",
        r"/zendesk/api/v2/tickets\.json",
        frozenset({"basic"}),
        "developer.zendesk.com/api-reference/ticketing/tickets/tickets/#list-tickets",
        query=frozenset({"external_id", "page", "per_page", "sort_by", "sort_order"}),
    ),
    Contract(
        "POST",
        r"/zendesk/api/v2/tickets\.json",
        frozenset({"basic"}),
        "developer.zendesk.com/api-reference/ticketing/tickets/tickets/#create-ticket",
        body=frozenset({"ticket"}),
        required_body=frozenset({"ticket"}),
    ),
)


def violations(request: dict[str, Any]) -> list[str]:
    """What in one recorded request departs from its documented contract (empty: none)."""
    matches = [
        c
        for c in CONTRACTS
        if c.method == request["method"] and re.fullmatch(c.path, request["path"])
    ]
    where = f"{request['method']} {request['path']}"
    if not matches:
        return [f"{where}: no documented endpoint has this method and path"]
    contract = matches[0]
    found = []
    if request["auth"] not in contract.auth:
        found.append(f"{where}: auth {request['auth']}, documented {sorted(contract.auth)}")
    found += _query_violations(where, contract, request["query"])
    if contract.form != request["content_type"].startswith("application/x-www-form-urlencoded"):
        found.append(f"{where}: body encoding {request['content_type']!r}")
    return found + _body_violations(where, contract, request["body"])


def _query_violations(where: str, contract: Contract, query: dict[str, str]) -> list[str]:
    found = [
        f"{where}: query parameter {k!r} is not documented"
        for k in sorted(set(query) - contract.query)
    ]
    found += [
        f"{where}: required query parameter {k!r} missing"
        for k in sorted(contract.required_query - set(query))
    ]
    for key, allowed in _LISTS.items():
        for value in filter(None, query.get(key, "").split(",")):
            if value not in allowed:
                found.append(f"{where}: {key} value {value!r} is not in the documented enum")
    return found


def _body_violations(where: str, contract: Contract, body: Any) -> list[str]:
    if body is None:
        body = {}
    if not isinstance(body, dict):
        return [f"{where}: body is not an object"]
    found = [
        f"{where}: body field {k!r} is not documented" for k in sorted(set(body) - contract.body)
    ]
    found += [
        f"{where}: required body field {k!r} missing"
        for k in sorted(contract.required_body - set(body))
    ]
    return found
