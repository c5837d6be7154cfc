"""Svod quality: quarantine rules, expectation suites and quality reports."""
