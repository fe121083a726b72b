"""Data quality: ODCS quality rules parsed, answered from metadata, else in one DuckDB pass."""
