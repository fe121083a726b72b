"""Alerting: the channels a manifest configures, and the router that decides what they get."""
