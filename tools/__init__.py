"""Helpers around the scripts: the version comparison and the CJK font for figures."""
