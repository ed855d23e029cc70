"""The webhook endpoints, one module per alert source."""
