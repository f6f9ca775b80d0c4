"""Review: a local web page to look at a run's rows and label them (`dsforge review RUN_DIR`).

run_data.py reads a run lazily (steps, filtered pages of rows, before/after of a row), server.py is the
FastAPI app, static/ the page (plain JS, no CDN), cli.py the command. The labels file (RUN_DIR/labels.parquet)
is kept by pipelines/stages/labels.py, beside the `annotations` stage (stages/annotations.py) that feeds
labels back into a recipe. Agreement
between annotators is computed in pipelines/stages/inspect/annotators.py (and shown by `dsforge inspect`).
"""
