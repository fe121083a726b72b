"""Monitoring state: check history, violations, SLA status, aggregates and registrations.

PostgreSQL in production, SQLite (``./.floe/``) as the embedded default; one schema for both.
"""
