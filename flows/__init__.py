"""Prefect flows. The only package that imports Prefect: stage logic stays plain Python elsewhere."""
