"""Svod pipelines: workspace config, source connectors, storage, profiles and the CLI."""
