"""The TUI's widgets: each owns its CSS, its rendering and its messages."""
