# Two commands set up a fresh machine: `make demo` and `make test`.
# Both install exactly the dependency set in uv.lock (see docs/install.md).
PYTHON     ?= python3
UV_VERSION := 0.13.9
VENV       := .venv
BIN        := $(VENV)/bin
TOOLS      := .venv-tools
UV         := $(TOOLS)/bin/uv
LATEST     := .venv-latest

# uv uses this machine's Python, installs into .venv, and never downloads an interpreter;
# it compiles bytecode at install (as pip does), or every command would recompile each module
# it imports where PYTHONDONTWRITEBYTECODE is set (seconds per process). segwise itself is
# installed editable, which uv does not compile: COMPILE does (0.2 s of a 1.5 s `segwise rfm`).
export UV_PROJECT_ENVIRONMENT := $(VENV)
export UV_PYTHON_DOWNLOADS    := never
export UV_PYTHON              := $(PYTHON)
export UV_COMPILE_BYTECODE    := 1
COMPILE := $(BIN)/python -m compileall -q -j 0 src/segwise

.PHONY: demo test lint bench lock test-latest browser clean

$(UV):
	@echo "==> [1/3] bootstrapping uv $(UV_VERSION) into $(TOOLS)/ (once)"
	@$(PYTHON) -m venv $(TOOLS)
	@$(TOOLS)/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

$(VENV)/.runtime: pyproject.toml uv.lock | $(UV)
	@echo "==> [2/3] installing segwise with the locked runtime dependencies into $(VENV)/"
	@$(UV) sync --locked --inexact
	@$(COMPILE)
	@touch $@

$(VENV)/.dev: pyproject.toml uv.lock | $(UV)
	@echo "==> [2/3] installing segwise with the locked runtime and test dependencies into $(VENV)/"
	@$(UV) sync --locked --extra dev
	@$(COMPILE)
	@touch $@ $(VENV)/.runtime

demo: $(VENV)/.runtime
	@$(COMPILE)
	@echo "==> [3/3] segwise demo"
	@$(BIN)/segwise demo

test: $(VENV)/.dev
	@echo "==> [3/3] running the test suite (pytest -n 2)"
	@$(BIN)/python -m pytest -n 2 --dist loadgroup -q

lint: $(VENV)/.dev
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/mypy
	$(BIN)/lint-imports

bench: | $(UV)
	@$(UV) sync --locked --extra dev --extra bench
	@$(COMPILE)
	@rm -f $(VENV)/.dev $(VENV)/.runtime
	$(BIN)/python benchmarks/run.py

# The real-browser test drives Debian's Chromium; without it that test is skipped.
browser:
	@if command -v chromium >/dev/null 2>&1; then \
		echo "==> chromium is installed: the real-browser test will run"; \
	else \
		echo "==> installing Debian's chromium for the real-browser test (apt-get, needs root)"; \
		if (apt-get install -y -qq chromium >/dev/null 2>&1 || \
		    (apt-get update -qq >/dev/null 2>&1 && apt-get install -y -qq chromium >/dev/null 2>&1)); \
		then echo "==> chromium installed"; \
		else echo "==> could not install chromium: the real-browser test will be skipped"; fi; \
	fi

# Refresh uv.lock to the newest versions pyproject.toml allows. Run `make test-latest` first.
lock: | $(UV)
	$(UV) lock --upgrade
	@rm -f $(VENV)/.dev $(VENV)/.runtime

# The suite against the newest allowed versions, in a throw-away venv; uv.lock is untouched.
test-latest: | $(UV)
	@echo "==> building $(LATEST)/ with the newest versions pyproject.toml allows"
	@rm -rf $(LATEST)
	@$(UV) venv --quiet $(LATEST)
	@$(UV) pip install --quiet --python $(LATEST)/bin/python --upgrade -e ".[dev]"
	@$(UV) pip list --python $(LATEST)/bin/python --format freeze > $(LATEST)/versions.txt
	@echo "==> versions that differ from uv.lock:"
	@$(UV) export --locked --extra dev --no-hashes --no-emit-project --format requirements-txt \
		| grep -E '^[A-Za-z0-9]' | sed 's/ *;.*//' | sort > $(LATEST)/locked.txt
	@sort $(LATEST)/versions.txt | grep -v -e '^-e' -e '^segwise==' | comm -13 $(LATEST)/locked.txt - || true
	@echo "==> running the test suite against them"
	$(LATEST)/bin/python -m pytest -n 2 --dist loadgroup -q

clean:
	rm -rf $(VENV) $(TOOLS) $(LATEST) build dist .pytest_cache .mypy_cache .ruff_cache
