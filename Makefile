# One entry point. `make train` runs the main job; `make test` runs the test suite.
PYTHON ?= python3
PYTEST_ARGS ?=

.PHONY: install docker test test-fast train bench

install:
	bash scripts/install.sh

# Docker daemon + the sandbox base image (built once per machine, cached by content hash).
docker: install
	bash scripts/ensure_docker.sh
	m1gym sandbox build-base
	m1gym swe build-images

# The environment contract, universal-answer probe included, over every built-in env; then the suite.
test: install docker
	m1gym envs check --all
	$(PYTHON) -m pytest -q -p no:cacheprovider $(PYTEST_ARGS)

# Without Docker and slow tests (local iteration).
test-fast: install
	$(PYTHON) -m pytest -q -p no:cacheprovider -m "not slow and not docker" $(PYTEST_ARGS)

train: install
	m1gym train

bench: install
	for b in benchmarks/*.py; do echo "== $$b"; $(PYTHON) $$b || exit 1; done
