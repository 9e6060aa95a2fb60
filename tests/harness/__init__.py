"""The reference app, synthesized once per stage (the generic helpers are serverless_patterns.testing)."""
