"""Turning derivations into LaTeX, Markdown and PDF."""
