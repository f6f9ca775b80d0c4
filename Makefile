# The two commands of the README:  `make demo` (install + run the main job) and `make test`.
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: install demo test
install: $(BIN)/dsforge
$(BIN)/dsforge: pyproject.toml scripts/install.sh
	bash scripts/install.sh
	@touch $@

demo: install
	$(BIN)/dsforge run sft-from-seeds-and-docs

test: install
	$(BIN)/pytest -q
