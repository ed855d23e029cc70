"""Persistence: one narrow protocol, SQLite and PostgreSQL backends."""
