"""A local demo stack: simulated service, real Prometheus and Alertmanager, the recorder."""
