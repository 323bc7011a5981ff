"""Performance harness (not part of the test run)."""
