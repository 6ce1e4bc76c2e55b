"""The platforms complaintflow speaks to, one folder each, behind one registry (`registry`).

A folder holds everything that is its platform's: `facts.py` (ids, limits, removals),
`webhooks.py` (its webhook sources: header, secret, normaliser, receiving account),
`adapter.py` (its API client and how it is built from the settings) and `emulator.py` (its
routes in the local emulator). The shared pieces sit beside them: `payload` (reading webhook
bodies), `http` (the adapters' HTTP base), `credentials` (tokens that refresh and rotate),
`emulation` (the emulator's machinery). No folder imports ingest, activities or the worker.
"""
