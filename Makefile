# The README's two commands: `make lab` (open the course) and `make test` (run every test).
# Both create .venv with the course installed if it is missing or older than pyproject.toml.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.course-installed
INSTRUCTOR_FLAGS := --ServerApp.root_dir=$(CURDIR) --LabApp.news_url=None --LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate
ifeq ($(shell id -u),0)
INSTRUCTOR_FLAGS += --allow-root
endif

.PHONY: lab test release instructor-lab

# nbgrader calls its `alembic` command by name: the venv's bin must be on PATH.
export PATH := $(CURDIR)/$(BIN):$(PATH)

$(INSTALLED): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e .
	touch $@

# The learner's lab: own copies in my-work/ (never overwritten), start page, no instructor panels.
lab: $(INSTALLED)
	$(BIN)/python -m course.lab --workspace my-work

# The instructor's lab: the whole repository, nbgrader's formgrader and create-assignment panels included.
instructor-lab: $(INSTALLED)
	$(BIN)/jupyter lab $(INSTRUCTOR_FLAGS)

test: $(INSTALLED)
	$(BIN)/python -m pytest

release: $(INSTALLED)
	$(BIN)/python -m course.release
