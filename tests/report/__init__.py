"""Tests for recorder.report."""
