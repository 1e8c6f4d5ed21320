"""Helpers around the four scripts: the version comparison and the CJK font for figures."""
