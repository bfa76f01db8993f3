# Two commands do all the set-up on a fresh machine (Python 3.11, pip, gcc, make):
#   make serve  – venv, install, demo data, serve on http://localhost:5006
#   make test   – venv, install with test extras, Debian's chromium and PostgreSQL, the whole pytest suite
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PORT ?= 5006

.PHONY: serve test install install-test chromium corpus bench clean-data

$(VENV)/.base: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet torch==2.13.0
	$(PY) -m pip install --quiet -e .
	touch $@

$(VENV)/.test: $(VENV)/.base
	$(PY) -m pip install --quiet -e ".[test]"
	touch $@

install: $(VENV)/.base
install-test: $(VENV)/.test

serve: install
	$(PY) -m app --port $(PORT)

chromium:
	@command -v chromium >/dev/null 2>&1 || { \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium fonts-dejavu-core; }

# The real-file corpus: package distributions that ship real observations, downloaded (never installed) from the
# package registry; tests/corpus/files.py names the files taken from them.
CORPUS_DIR ?= .cache/corpus
$(CORPUS_DIR)/.done: tests/corpus/requirements.txt
	mkdir -p $(CORPUS_DIR)
	$(PY) -m pip download --quiet --no-deps --dest $(CORPUS_DIR) -r tests/corpus/requirements.txt
	touch $@

corpus: install $(CORPUS_DIR)/.done

# PostgreSQL (Debian's) for the vetting tests: installed and started by .ci/postgres.sh, which prints its URL.
test: install-test chromium corpus
	ASTROML_TEST_PG_URL="$${ASTROML_TEST_PG_URL-$$(bash .ci/postgres.sh)}" $(PY) -m pytest

bench: install
	$(PY) -m astroml_core.bench cube

clean-data:
	rm -rf data/demo data/uploads
