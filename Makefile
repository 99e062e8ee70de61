# The README's two commands: `make lab` (open the course) and `make test` (run every test).
# Both create .venv with the course installed if it is missing or older than pyproject.toml.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.course-installed
LAB_FLAGS := --ServerApp.root_dir=$(CURDIR) --LabApp.news_url=None --LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate
ifeq ($(shell id -u),0)
LAB_FLAGS += --allow-root
endif

.PHONY: lab test release

# nbgrader calls its `alembic` command by name: the venv's bin must be on PATH.
export PATH := $(CURDIR)/$(BIN):$(PATH)

$(INSTALLED): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e .
	touch $@

lab: $(INSTALLED)
	$(BIN)/jupyter lab $(LAB_FLAGS) release/01-batch-size/01-batch-size.ipynb

test: $(INSTALLED)
	$(BIN)/python -m pytest

release: $(INSTALLED)
	$(BIN)/python -m course.release
