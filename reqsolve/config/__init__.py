"""Launcher files: the typed model of SEMANTICS.md §2, its loader and its lint rules."""
