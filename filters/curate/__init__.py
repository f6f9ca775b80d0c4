"""Curation by coverage and quantity (chapter 8's other half): classify rows on the book's axes, mix groups to
target proportions, cut nested subsets for a data-scaling experiment, and filter by a cheap classifier
trained on judge scores (the FineWeb-Edu recipe). See docs/curation.md."""
