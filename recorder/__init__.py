"""Incident Recorder: incidents from alert webhooks, evidence from Prometheus, postmortem drafts."""

__version__ = "0.1.0"
