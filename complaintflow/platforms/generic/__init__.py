"""complaintflow's own webhook: mentions from any source, in the Mention JSON shape."""
