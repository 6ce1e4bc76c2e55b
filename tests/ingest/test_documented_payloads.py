"""Documented webhook payloads into ingest: one bad entry never sinks a delivery.

Shapes follow the platforms' webhook references (field names and nesting copied as facts):
Page feed https://developers.facebook.com/docs/graph-api/webhooks/reference/page/#feed,
Instagram https://developers.facebook.com/docs/graph-api/webhooks/reference/instagram
(comments: {from: {id, username}, media: {id, media_product_type}, id, parent_id, text};
mentions: {media_id, comment_id}), X Account Activity tweet_create_events (v1.1 tweet
objects: retweeted_status, is_quote_status, quoted_status). Meta retries any answer but 2xx
"immediately, then ... with decreasing frequency over the next 36 hours"
(https://developers.facebook.com/docs/graph-api/webhooks/getting-started), so a readable
delivery with nothing usable in it is 2xx, its entries under `skipped`.
"""

import json

import httpx
import structlog

from complaintflow.ingest.app import Ingest
from complaintflow.platforms.generic.webhooks import content_id, from_generic
from tests.support.webhooks import feed_comment, hex_signature, x_event, x_signature

PAGE = "104"


def page_comment(comment_id: str, message: str | None, **extra: object) -> dict[str, object]:
    """A new comment on the page's photo post, with the fields the feed reference shows."""
    return feed_comment(
        comment_id,
        message,
        post_id=f"{PAGE}_1",
        author=("888", "Chris D"),
        post={"status_type": "added_photos", "is_published": True, "id": f"{PAGE}_1"},
        **{"created_time": 1795000000, **extra},
    )


async def post_meta(http: httpx.AsyncClient, body: object) -> httpx.Response:
    raw = json.dumps(body).encode()
    return await http.post(
        "/webhooks/meta",
        content=raw,
        headers={"x-hub-signature-256": hex_signature(raw, "meta-secret")},
    )


async def test_a_photo_only_comment_does_not_sink_the_good_one(
    service: tuple[httpx.AsyncClient, Ingest],
) -> None:
    http, ingest = service
    body = {
        "object": "page",
        "entry": [
            {
                "id": PAGE,
                "time": 1795000001,
                "changes": [
                    page_comment(f"{PAGE}_1_2", None, photo="https://scontent.example/p.jpg"),
                    page_comment(f"{PAGE}_1_3", "Wrong item delivered, I want a refund!"),
                ],
            }
        ],
    }
    with structlog.testing.capture_logs() as logs:
        answer = await post_meta(http, body)
    assert answer.status_code == 200, answer.text
    assert answer.json()["accepted"] == 1
    assert [d["id"] for d in answer.json()["decisions"]] == [f"{PAGE}_1_3"]
    (skipped,) = answer.json()["skipped"]
    assert "entry[0].changes[0]" in skipped and "no text" in skipped
    assert ingest.skipped_entries == 1
    assert [e["problem"] for e in logs if e["event"] == "ingest.entry_skipped"] == [skipped]


async def test_an_instagram_mentions_change_is_reported_not_fatal(
    service: tuple[httpx.AsyncClient, Ingest],
) -> None:
    http, ingest = service
    body = {
        "object": "instagram",
        "entry": [
            {
                "id": "17841400000000000",
                "time": 1795000001,
                "changes": [
                    {
                        "field": "mentions",
                        "value": {"media_id": "17887498072083520", "comment_id": "17894227972"},
                    },
                    {
                        "field": "comments",
                        "value": {
                            "from": {"id": "232323232", "username": "test_user"},
                            "media": {"id": "123123123", "media_product_type": "FEED"},
                            "id": "17865799348089039",
                            "text": "The screws are missing, refund please",
                        },
                    },
                ],
            }
        ],
    }
    answer = await post_meta(http, body)
    assert answer.status_code == 200, answer.text
    assert answer.json()["accepted"] == 1
    assert "Instagram mention carries no text" in answer.json()["skipped"][0]
    assert ingest.skipped_entries == 1


async def test_a_delivery_with_nothing_usable_is_2xx_with_its_entries_skipped(
    service: tuple[httpx.AsyncClient, Ingest],
) -> None:
    http, ingest = service
    instagram_mention = {
        "object": "instagram",
        "entry": [
            {
                "id": "17841400000000000",
                "time": 1795000001,
                "changes": [
                    {
                        "field": "mentions",
                        "value": {"media_id": "17887498072083520", "comment_id": "17894227972"},
                    }
                ],
            }
        ],
    }
    photo_only = {
        "object": "page",
        "entry": [{"id": PAGE, "changes": [page_comment(f"{PAGE}_1_7", None)]}],
    }
    wrong_change = {"object": "page", "entry": [{"id": PAGE, "changes": [{"value": 7}]}, 5]}
    expected = {
        "Instagram mention carries no text": instagram_mention,
        "has no text (a photo or sticker only)": photo_only,
        "entry[0].changes[0].value must be a JSON object": wrong_change,
    }
    for reason, body in expected.items():
        with structlog.testing.capture_logs() as logs:
            answer = await post_meta(http, body)
        assert answer.status_code == 200, answer.text
        assert (answer.json()["accepted"], answer.json()["cases"]) == (0, [])
        assert reason in answer.json()["skipped"][0]
        assert [e["problem"] for e in logs if e["event"] == "ingest.entry_skipped"] == (
            answer.json()["skipped"]
        )
    assert "entry[1] must be a JSON object" in answer.json()["skipped"][1]
    assert ingest.skipped_entries == 4


async def test_an_entry_whose_time_is_out_of_range_is_skipped_and_the_others_taken(
    service: tuple[httpx.AsyncClient, Ingest],
) -> None:
    """`created_time: 10**15` once made the whole delivery a 400 (datetime overflow)."""
    http, ingest = service
    far = [10**15, 2**53, 10**12, 946684799]  # the last: 1999-12-31T23:59:59Z
    changes = [
        page_comment(f"{PAGE}_1_{20 + n}", "refund now", created_time=t) for n, t in enumerate(far)
    ]
    changes.append(page_comment(f"{PAGE}_1_30", "Wrong item delivered, I want a refund!"))
    with structlog.testing.capture_logs() as logs:
        answer = await post_meta(
            http, {"object": "page", "entry": [{"id": PAGE, "changes": changes}]}
        )
    assert answer.status_code == 200, answer.text
    assert [d["id"] for d in answer.json()["decisions"]] == [f"{PAGE}_1_30"]
    skipped = answer.json()["skipped"]
    assert [
        f"entry[0].changes[{n}].value.created_time: {t} is out of range" in problem
        for n, (t, problem) in enumerate(zip(far, skipped, strict=True))
    ] == [True] * 4
    assert len([e for e in logs if e["event"] == "ingest.entry_skipped"]) == 4
    assert ingest.skipped_entries == 4


async def test_retweets_and_quote_posts_open_no_case(
    service: tuple[httpx.AsyncClient, Ingest],
) -> None:
    http, _ = service
    event = x_event("1880000000000000050", "RT @jo_r: @NorthwindCares broken sofa, refund!")
    original = {"id_str": "1880000000000000049", "text": "@NorthwindCares broken sofa"}
    event["tweet_create_events"][0]["retweeted_status"] = original  # type: ignore[index]
    quote = x_event("1880000000000000051", "@NorthwindCares same broken sofa here, refund")
    quote["tweet_create_events"][0]["is_quote_status"] = True  # type: ignore[index]
    for body in (event, quote):
        raw = json.dumps(body).encode()
        answer = await http.post(
            "/webhooks/x", content=raw, headers={"x-twitter-webhooks-signature": x_signature(raw)}
        )
        assert answer.status_code == 200 and answer.json()["accepted"] == 0


def test_generic_mentions_without_an_id_get_one_from_their_content() -> None:
    first = {"platform": "x", "text": "my sofa arrived broken", "author": {"handle": "jo"}}
    second = {"platform": "x", "text": "charged twice for one order", "author": {"handle": "jo"}}
    one, two = from_generic({"mentions": [first, second]})
    again = from_generic(dict(first))[0]
    assert one.id != two.id, "a different complaint is not absorbed as a redelivery"
    assert one.id == again.id == content_id(first), "the same one resent is recognised"
    assert from_generic({**first, "id": "given"})[0].id == "given"


async def test_an_id_that_is_not_a_platform_id_is_a_bad_entry(
    service: tuple[httpx.AsyncClient, Ingest],
) -> None:
    http, ingest = service
    body = {
        "object": "page",
        "entry": [
            {
                "id": PAGE,
                "changes": [
                    page_comment(f"{PAGE}_1_2/../{PAGE}_9", "refund now, broken sofa"),
                    page_comment(f"{PAGE}_1_4", "Wrong item delivered, I want a refund!"),
                ],
            }
        ],
    }
    answer = await post_meta(http, body)
    assert answer.status_code == 200, answer.text
    assert [d["id"] for d in answer.json()["decisions"]] == [f"{PAGE}_1_4"]
    (skipped,) = answer.json()["skipped"]
    assert "comment_id" in skipped and "is not a facebook id" in skipped
    assert ingest.skipped_entries == 1
