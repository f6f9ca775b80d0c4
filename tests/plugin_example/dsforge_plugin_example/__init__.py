"""An example dsforge plugin package: what a team ships to add stages and a backend without editing dsforge.

- keyword_drop.py: `keyword-drop`, a row-wise filter (the stage of docs/architecture.md, "The stage interface");
- title.py + prompts/title_v1.jinja: `title`, an LLM task written as `format_input` + `parse_output` only;
- replay.py: the `replay` backend, which answers from a JSONL file of recorded replies.

pyproject.toml declares them under the entry-point groups `dsforge.stages` and `dsforge.backends`.
"""
