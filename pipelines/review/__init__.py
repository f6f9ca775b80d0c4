"""Review: a local web page to look at a run's rows and label them (`dsforge review RUN_DIR`).

run_data.py reads a run lazily (steps, filtered pages of rows, before/after of a row), labels.py keeps the
labels file (RUN_DIR/labels.parquet), server.py is the FastAPI app, static/ the page (plain JS, no CDN),
cli.py the command, stage.py the `annotations` stage that feeds labels back into a recipe. Agreement
between annotators is computed in pipelines/inspect/annotators.py (and shown by `dsforge inspect`).
"""
