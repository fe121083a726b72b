"""Helpers for testing against real Iceberg tables: local catalogs, tables and delete files.

Used by floe's own tests, benchmarks and demo, and available to plugin authors.
"""
