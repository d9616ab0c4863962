"""Altair charts built from the query layer's small DataFrames, shared by the pages and reports."""
