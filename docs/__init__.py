"""The documentation: pages for ``make docs``, diagrams from ``make diagrams``, and their tools."""
