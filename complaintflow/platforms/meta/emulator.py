"""Meta's Graph API as the emulator serves it: Page and Instagram comments, replies, private
replies, hiding and deleting, with Graph's error codes (developers.facebook.com)."""

import time
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from complaintflow.platforms.emulation import (
    EmulatorState,
    Post,
    RouteRow,
    graph_error,
    read_json,
)
from complaintflow.platforms.meta.adapter import MetaSettings

PRIVATE_REPLY_WINDOW = 7 * 24 * 3600
# The Send API's messaging windows, from the customer's last message: RESPONSE within 24 hours
# (https://developers.facebook.com/docs/messenger-platform/reference/send-api/, "Before You
# Start"), MESSAGE_TAG with tag HUMAN_AGENT "within 7 days after a user message"
# (https://developers.facebook.com/docs/messenger-platform/send-messages/message-tags).
STANDARD_WINDOW = 24 * 3600
HUMAN_AGENT_WINDOW = 7 * 24 * 3600
MESSAGING_TYPES = ("RESPONSE", "UPDATE", "MESSAGE_TAG")


def psid_of(author_id: str) -> str:
    """The id Messenger names a commenter by in private (a page-scoped id, not the comment's
    `from.id`): what a private reply answers with as `recipient_id`."""
    return "24" + author_id.zfill(15)


def customer_writes(state: EmulatorState, user: str, at: float | None = None) -> None:
    """The customer `user` (PSID / IGSID) writes to the brand at `at` (now by default): the
    Send API's window to answer them opens from then."""
    state.customer_wrote[user] = time.time() if at is None else at


def _gone(verb: str, object_id: str) -> JSONResponse:
    """What Graph answers for an object that does not exist (any more): HTTP 400, code 100,
    subcode 33 (https://developers.facebook.com/docs/graph-api/guides/error-handling)."""
    return graph_error(
        f"Unsupported {verb} request. Object with ID '{object_id}' does not exist, cannot be "
        "loaded due to missing permissions, or does not support this operation.",
        100,
        33,
    )


async def graph_me(request: Request, state: EmulatorState) -> Response:
    """GET /me with a Page access token is the Page itself
    (https://developers.facebook.com/docs/pages-api/getting-started)."""
    return JSONResponse({"id": state.brand_page_id, "name": "Brand"})


async def fb_comment(request: Request, state: EmulatorState) -> Response:
    """POST /{object-id}/comments {message} on Facebook
    (https://developers.facebook.com/docs/graph-api/reference/object/comments/), POST
    /{ig-comment-id}/replies?message= on Instagram (https://developers.facebook.com/docs/
    instagram-platform/instagram-graph-api/reference/ig-comment/replies); {"id"}."""
    parent = request.path_params["object_id"]
    post = state.posts.get(parent)
    if post is None or post.deleted:
        return _gone("post", parent)
    message = request.query_params.get("message") or str(
        (await read_json(request)).get("message", "")
    )
    if not message:
        return graph_error("(#100) The parameter message is required", 100)
    if post.platform == "instagram" and post.hidden:
        return graph_error("(#100) You cannot reply to hidden comments", 100)
    if post.platform == "instagram":
        # "You can only reply to top-level comments; replies to a reply will be added to
        # the top-level comment." (ig-comment/replies, Limitations)
        parent = _top_level_comment(state, post).id
    new_id = state.new_id() if post.platform == "instagram" else f"{parent}_{state.new_id()}"
    reply = state.add_post(
        Post(new_id, post.platform, state.brand_page_id, message, in_reply_to=parent)
    )
    return JSONResponse({"id": reply.id})


def _top_level_comment(state: EmulatorState, comment: Post) -> Post:
    """The top-level comment of an Instagram comment's thread (media are not modelled: a
    comment whose parent is not another Instagram comment is top-level)."""
    seen = {comment.id}
    while (parent := state.posts.get(comment.in_reply_to)) is not None:
        if parent.platform != "instagram" or parent.id in seen:
            break
        seen.add(parent.id)
        comment = parent
    return comment


async def fb_edit_object(request: Request, state: EmulatorState) -> Response:
    """Hide a comment: POST /{comment-id} is_hidden=true on Facebook
    (https://developers.facebook.com/docs/graph-api/reference/comment/), hide=true on
    Instagram (https://developers.facebook.com/docs/instagram-platform/instagram-graph-api/
    reference/ig-comment)."""
    object_id = request.path_params["object_id"]
    post = state.posts.get(object_id)
    if post is None or post.deleted:
        return _gone("post", object_id)
    body = {**(await read_json(request)), **request.query_params}
    flag = "hide" if post.platform == "instagram" else "is_hidden"
    if flag not in body:
        return graph_error(f"(#100) The parameter {flag} is required", 100)
    post.hidden = str(body[flag]).lower() in ("true", "1")
    return JSONResponse({"success": True})


async def fb_delete(request: Request, state: EmulatorState) -> Response:
    """DELETE /{comment-id} (https://developers.facebook.com/docs/graph-api/reference/
    comment/#deleting): {success: true}; a second delete gets code 100 subcode 33, not 404
    (see _gone)."""
    object_id = request.path_params["object_id"]
    post = state.posts.get(object_id)
    if post is None or post.deleted:
        return _gone("delete", object_id)
    post.deleted = True
    return JSONResponse({"success": True})


async def fb_list_comments(request: Request, state: EmulatorState) -> Response:
    """GET /{object-id}/comments or /{ig-comment-id}/replies. Facebook comments carry
    `message`, Instagram comments `text`; `from` comes only when asked for in `fields`
    (https://developers.facebook.com/docs/instagram-platform/instagram-graph-api/reference/
    ig-comment: "from" gives {id, username})."""
    parent = request.path_params["object_id"]
    top = state.posts.get(parent)
    if top is None or top.deleted:
        return _gone("get", parent)
    asked = set(filter(None, request.query_params.get("fields", "").split(",")))
    found = [p for p in state.posts.values() if p.in_reply_to == parent and not p.deleted]
    # order=chronological (default) | reverse_chronological; limit: page size (25 default)
    if request.query_params.get("order") == "reverse_chronological":
        found.reverse()
    try:
        limit = int(request.query_params.get("limit", "25"))
    except ValueError:
        return graph_error("(#100) limit must be an integer", 100)
    found = found[: max(1, limit)]
    data = []
    for comment in found:
        instagram = comment.platform == "instagram"
        shown: dict[str, Any] = {"id": comment.id}
        if instagram:
            shown["text"] = comment.text
            shown["timestamp"] = time.strftime(
                "%Y-%m-%dT%H:%M:%S+0000", time.gmtime(comment.created)
            )
        else:
            shown["message"] = comment.text
            shown["created_time"] = time.strftime(
                "%Y-%m-%dT%H:%M:%S+0000", time.gmtime(comment.created)
            )
        if "from" in asked:
            shown["from"] = (
                {"id": comment.author_id, "username": f"user{comment.author_id}"}
                if instagram
                else {"id": comment.author_id, "name": f"User {comment.author_id}"}
            )
        if asked:
            shown = {k: v for k, v in shown.items() if k in asked or k == "id"}
        data.append(shown)
    return JSONResponse({"data": data})


async def fb_private_reply(request: Request, state: EmulatorState) -> Response:
    """POST /{PAGE-ID}/messages {recipient: {comment_id}, message: {text}}: a private reply to
    a Facebook or Instagram comment, sent as the Page; one per comment, within 7 days
    (https://developers.facebook.com/docs/messenger-platform/discovery/private-replies/).
    With recipient.id instead, the Send API (see _send)."""
    if request.path_params["object_id"] != state.brand_page_id:
        return graph_error("(#200) Messages can only be sent from the page", 200, status=403)
    body = await read_json(request)
    recipient = body.get("recipient") or {}
    if isinstance(recipient, dict) and "id" in recipient:
        return _send(state, body, str(recipient["id"]))
    comment = str((body.get("recipient") or {}).get("comment_id", ""))
    text = str((body.get("message") or {}).get("text", ""))
    post = state.posts.get(comment)
    if post is None:
        return graph_error("(#100) recipient.comment_id does not exist", 100)
    if comment in state.private_replies:
        return graph_error(
            "(#10900) Activity already replied to: one private reply per comment", 10900
        )
    if time.time() - post.created > PRIVATE_REPLY_WINDOW:
        return graph_error("(#10900) The comment is older than 7 days", 10900)
    state.private_replies[comment] = time.time()
    message = state.new_id("m_")
    state.messages.append(
        {"platform": post.platform, "comment_id": comment, "text": text, "id": message}
    )
    return JSONResponse({"recipient_id": psid_of(post.author_id), "message_id": message})


def _send(state: EmulatorState, body: dict[str, Any], user: str) -> Response:
    """The Send API to a customer who wrote to the brand: {recipient: {id}, messaging_type,
    tag?, message: {text}} -> {recipient_id, message_id}
    (https://developers.facebook.com/docs/messenger-platform/reference/send-api/). A message
    outside the window its messaging_type allows is refused with code 10, subcode 2018278,
    "This message is sent outside of allowed window"; a recipient who never wrote is code
    100, subcode 2018001, "No matching user found"
    (https://developers.facebook.com/docs/messenger-platform/reference/send-api/error-codes)."""
    kind = body.get("messaging_type")
    if kind not in MESSAGING_TYPES:
        return graph_error(
            "(#100) param messaging_type must be one of {RESPONSE, UPDATE, MESSAGE_TAG}", 100
        )
    text = str((body.get("message") or {}).get("text", ""))
    if not text:
        return graph_error("(#100) The parameter message is required", 100)
    wrote = state.customer_wrote.get(user)
    if wrote is None:
        return graph_error("(#100) No matching user found", 100, 2018001)
    age = time.time() - wrote
    tagged = kind == "MESSAGE_TAG" and body.get("tag") == "HUMAN_AGENT"
    if kind == "MESSAGE_TAG" and not tagged:
        return graph_error("(#100) Param tag must be a supported message tag", 100)
    if age > (HUMAN_AGENT_WINDOW if tagged else STANDARD_WINDOW):
        return graph_error(
            "(#10) This message is sent outside of allowed window. Learn more about the new "
            "policy here: https://developers.facebook.com/docs/messenger-platform/policy-overview",
            10,
            2018278,
        )
    sent = state.add_message("messenger", state.brand_page_id, user, text)
    sent.update(messaging_type=kind, tag=str(body.get("tag", "")))
    message = sent["id"] = f"m_{sent['id']}"
    return JSONResponse({"recipient_id": user, "message_id": message})


def _conversation_of(state: EmulatorState, user: str) -> str:
    return f"t_{user}"


async def graph_conversations(request: Request, state: EmulatorState) -> Response:
    """GET /{PAGE-ID}/conversations?platform=messenger|instagram&user_id=PSID: the Page's
    conversation with that person, {data: [{id, updated_time}]}
    (https://developers.facebook.com/docs/messenger-platform/conversations)."""
    params = request.query_params
    if params.get("platform") not in ("messenger", "instagram"):
        return graph_error("(#100) param platform must be one of {messenger, instagram}", 100)
    user = params.get("user_id", "")
    known = user in state.customer_wrote or any(m.get("to") == user for m in state.messages)
    if not user or not known:
        return JSONResponse({"data": []})
    stamp = time.strftime(
        "%Y-%m-%dT%H:%M:%S+0000", time.gmtime(state.customer_wrote.get(user, time.time()))
    )
    return JSONResponse({"data": [{"id": _conversation_of(state, user), "updated_time": stamp}]})


async def graph_conversation(request: Request, state: EmulatorState) -> Response:
    """GET /{CONVERSATION-ID}?fields=messages{message,from}: its messages, newest first, the
    20 most recent (Conversations API: "you can only get details of the 20 most recent
    messages"); the brand's own messages, as this emulator keeps them."""
    conversation = request.path_params["object_id"]
    if not conversation.startswith("t_"):
        return _gone("get", conversation)
    user = conversation.removeprefix("t_")
    mine = [m for m in state.messages if m.get("platform") == "messenger" and m["to"] == user]
    data = [
        {"id": m["id"], "message": m["text"], "from": {"id": m["sender"]}}
        for m in reversed(mine[-20:])
    ]
    return JSONResponse({"id": conversation, "messages": {"data": data}})


ROUTES: tuple[RouteRow, ...] = (
    ("/graph/me", "graph.me", graph_me, "GET"),
    ("/graph/{object_id}/comments", "graph.comment", fb_comment, "POST"),
    ("/graph/{object_id}/replies", "graph.comment", fb_comment, "POST"),
    ("/graph/{object_id}/comments", "graph.list_comments", fb_list_comments, "GET"),
    ("/graph/{object_id}/replies", "graph.list_comments", fb_list_comments, "GET"),
    ("/graph/{object_id}/messages", "graph.private_reply", fb_private_reply, "POST"),
    ("/graph/{object_id}/conversations", "graph.conversations", graph_conversations, "GET"),
    ("/graph/{object_id}", "graph.conversation", graph_conversation, "GET"),
    ("/graph/{object_id}", "graph.edit", fb_edit_object, "POST"),
    ("/graph/{object_id}", "graph.delete", fb_delete, "DELETE"),
)
# The credentials each route takes (see emulation._refused); any other: the Graph token.
AUTHS: dict[str, str] = {}


def settings(url: str, token: str) -> MetaSettings:
    """The adapter's settings for this emulator at `url`, `token` as its fixed secrets."""
    return MetaSettings(url=f"{url}/graph", token=token)
