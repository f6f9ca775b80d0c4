"""The stages that ship with the core: ingest, split, chat-format (chat_template.py, token_budget.py,
loss_masks.py, format_checks.py, templates/), save and publish (dataset_writer.py, layouts.py, card.py,
trainer_configs.py), inspect (inspect/) and annotations (people's labels from `dsforge review`, labels.py).

Stages import the core and pipelines/llm/ or pipelines/neardup/, never the apps (pipelines/apps/).
"""
