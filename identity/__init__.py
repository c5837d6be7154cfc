"""Svod identity: normalisers, match keys, resolution and the customer-ID registry (no Svod imports)."""
