"""Tools behind ``make diagrams`` and ``make docs`` (not part of the library)."""
