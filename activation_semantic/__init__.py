"""Activation milestones in versioned YAML, compiled to a verified Cube data model."""

__version__ = "0.1.0"
