"""Google Business Profile's webhooks: none. Reviews arrive through complaintflow's own
webhook (`account` = the location id); Google's Pub/Sub notifications name a review without
its text, so a source for them would fetch it first."""

from complaintflow.platforms.payload import WebhookSource

SOURCES: tuple[WebhookSource, ...] = ()
