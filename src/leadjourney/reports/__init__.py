"""Deliverables built from the analysis: recommendations and the documents that carry them."""
