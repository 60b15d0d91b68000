"""lessons package."""
