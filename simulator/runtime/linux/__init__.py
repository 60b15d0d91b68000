"""linux package."""
