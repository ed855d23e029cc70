"""Vendor payload adapters: each module maps one alert source to the normalized events."""
