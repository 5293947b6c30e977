"""Alerting engines' own APIs: Prometheus Alertmanager, Prometheus rules and Grafana alerting."""
