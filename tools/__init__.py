"""Helpers around the seven scripts: the version comparison and the CJK font for figures."""
