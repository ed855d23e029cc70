"""Sampling Prometheus while incidents run: signal templates and the HTTP API client."""
