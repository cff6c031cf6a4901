"""Import jobs (CSV/Excel): mapping presets, previews, progress, undo; exports."""
