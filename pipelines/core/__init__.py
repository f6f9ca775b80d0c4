"""The core: what one run is made of, and nothing that is a stage or an app.

records.py (the one record format), readers/ (inputs into records), stage.py (the stage interface and its
execution modes), fields.py (field references), recipe.py + registry.py + plugins.py (a recipe loaded and
its stages found), runner.py (steps, reuse, the run folder), step_run.py + step_modes.py (one step cut into
tasks by its mode), worker.py (one task + the contract), executors.py (local pool / Ray), shards.py and
part_records.py (parts on disk), fingerprint.py (what decides reuse), errors.py (the one error base).
Small helpers every stage package shares sit here too: generated.py, row_text.py, code_text.py, redact.py.

Not here: stages (pipelines/stages/, filters/, dedup/, synth/, validators/), calling a model (pipelines/llm/),
the CLI and the review page (pipelines/apps/). The core imports none of them (tests/test_import_contracts.py).
"""
