"""Segments from YAML rules, kept in the store and pushed to connections as memberships."""
