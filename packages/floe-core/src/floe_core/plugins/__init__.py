"""Plugins: the plugin types, their metadata and registry, one ABC per kind, built-in catalogs."""
