"""The TUI's secondary screens (help)."""
