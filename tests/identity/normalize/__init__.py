"""Tests for identity.normalize."""
