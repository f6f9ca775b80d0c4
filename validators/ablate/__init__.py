"""Prove the data: small-model ablations (stage.py: the `ablate` stage and `dsforge ablate RUN_DIR`)."""
