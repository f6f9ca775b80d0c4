"""dsforge's own machinery, in rooms that import only the rooms below them (docs/architecture.md):

    apps/      the `dsforge` command line and the review page (the only room that imports flows/)
    stages/    the stages that ship with the core: ingest, split, chat-format, save, publish, inspect, annotations
    llm/       calling a model (LLM-stage base, prompts, backends, cache);  neardup/  shingles, MinHash, LSH
    core/      records, the stage interface, recipes, the runner, executors, parts on disk
    recipes/   the shipped recipes (`dsforge run alpaca-sft`)
"""
