"""HTTP shell: aiohttp app factory, webhooks, API, pages."""
