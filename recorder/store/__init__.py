"""Persistence: the protocols by role (`protocol.py`), what both backends share (`roles.py`,
`statements.py`, and the row conversions in `codec.py`, `times.py`, `cursors.py` and
`failure_rows.py`), and one package per backend (`sqlite/`, `postgres/`)."""
