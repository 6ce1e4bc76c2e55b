"""Google Business Profile: facts, the review-reply adapter and its emulated routes."""
