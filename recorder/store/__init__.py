"""Persistence: the protocols by role (`protocol.py`), what both backends share (`roles.py`,
`statements.py`, `codec.py`), and one package per backend (`sqlite/`, `postgres/`)."""
