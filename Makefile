# The README's two commands: `make lab` (open the course) and `make test` (run every test).
# Both create .venv with the course installed if it is missing or older than pyproject.toml.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.course-installed
TEST_INSTALLED := $(VENV)/.course-test-installed
INSTRUCTOR_FLAGS := --ServerApp.root_dir=$(CURDIR) --LabApp.news_url=None --LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate
ifeq ($(shell id -u),0)
INSTRUCTOR_FLAGS += --allow-root
endif

.PHONY: lab test release instructor-lab system-deps

# nbgrader calls its `alembic` command by name: the venv's bin must be on PATH.
export PATH := $(CURDIR)/$(BIN):$(PATH)

$(INSTALLED): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e .
	touch $@

# The learner's lab: own copies in my-work/ (never overwritten), start page, no instructor panels.
# Options for jupyter lab go through LAB_ARGS, e.g. make lab LAB_ARGS="--port 8899 --no-browser".
lab: $(INSTALLED)
	$(BIN)/python -m course.lab --workspace my-work $(LAB_ARGS)

# The instructor's lab: the whole repository, nbgrader's formgrader and create-assignment panels included.
instructor-lab: $(INSTALLED)
	$(BIN)/jupyter lab $(INSTRUCTOR_FLAGS)

# Debian packages some tests need: bubblewrap (the autograder's sandbox), chromium (browser tests) and
# postgresql (the autograder's tests start a throwaway server on 127.0.0.1 in a temporary folder and stop it).
# Installed with apt when running as root; otherwise those tests skip and say why.
system-deps:
	@missing=""; \
	command -v bwrap >/dev/null 2>&1 || missing="$$missing bubblewrap"; \
	test -x /usr/bin/chromium || missing="$$missing chromium"; \
	command -v initdb >/dev/null 2>&1 || ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing="$$missing postgresql"; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "installing Debian packages:$$missing"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	  else \
	    echo "note: Debian packages$$missing are missing (install them as root); the tests that need them will skip"; \
	  fi; \
	fi

# Test-only tools (pytest, xdist, nbval, playwright): the `test` extra, which `make lab` does not need.
$(TEST_INSTALLED): $(INSTALLED)
	$(BIN)/python -m pip install --quiet -e ".[test]"
	touch $@

# Two workers (pytest-xdist); loadscope keeps each module (a notebook, the browser session) on one worker.
PYTEST_ARGS ?= -n 2 --dist loadscope
test: $(TEST_INSTALLED) system-deps
	$(BIN)/python -m pytest $(PYTEST_ARGS)

release: $(INSTALLED)
	$(BIN)/python -m course.release
