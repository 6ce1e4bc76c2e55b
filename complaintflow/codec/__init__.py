"""How payloads travel to Temporal: the data converter (plain refusals), the encryption of
customer data under named keys, and the codec server the Web UI calls to read them.

`converter` has the converter every client and worker shares; `keys` the keys and the
encrypting codec; `server` the HTTP codec server.
"""
