"""The corpus and the script that builds it: python -m data.prepare, from the repository root."""
