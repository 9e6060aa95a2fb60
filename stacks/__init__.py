"""Reference architectures built from serverless_patterns, and their per-stage configuration."""
