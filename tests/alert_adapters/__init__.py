"""Tests of the vendor payload adapters."""
