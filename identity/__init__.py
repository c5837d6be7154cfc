"""Svod identity: normalisers, match keys, resolution and the customer-ID registry.

Imports nothing else of Svod, so it can be reused on its own.
"""
