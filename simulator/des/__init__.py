"""des package."""
