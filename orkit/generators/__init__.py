"""Seeded instance generators, one module per family (`orkit generate PROBLEM ...`)."""
