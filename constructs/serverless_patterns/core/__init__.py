"""Internal building blocks the patterns share: defaults, builders that return what they build, checks.

Nothing here is public API; patterns import from the modules directly.
"""
