"""Helpers for testing against real components: local Iceberg catalogs, tables and delete
files, and an HTTP server that records what alert channels send it.

Used by floe's own tests, benchmarks and demo, and available to plugin authors.
"""
