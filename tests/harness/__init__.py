"""Shared test harness: synth once, template-built moto resources, IAM-scoped handler runs."""
