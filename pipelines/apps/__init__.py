"""The apps on top: the `dsforge` command line (cli.py, completion.py, inspect_cli.py) and the review page
(review/). The only room that imports flows/; nothing imports an app (tests/test_import_contracts.py).
"""
