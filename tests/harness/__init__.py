"""Integration test harness of ns8-migration (see README.md)."""
