"""Telemetry: the monitor's metrics, through the OpenTelemetry API, exported for Prometheus."""
