# Two commands do everything on a fresh machine with Python 3.11:  make book  and  make test.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
PORT   ?= 8000

.PHONY: book test serve bench lint clean env strip lab

# (Re)install when requirements.txt or pyproject.toml change.
$(STAMP): requirements.txt pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -r requirements.txt
	@touch $(STAMP)

env: $(STAMP)

# Every notebook is executed at build time (execute_notebooks: force in _config.yml);
# warnings are errors so a broken page never ships silently.
book: $(STAMP)
	$(BIN)/jupyter-book build . -W --keep-going
	@echo
	@echo "The book is at: file://$(CURDIR)/_build/html/index.html   (make serve: http://localhost:$(PORT))"

serve:
	@test -f _build/html/index.html || $(MAKE) book
	$(BIN)/python -m http.server $(PORT) --bind 127.0.0.1 --directory _build/html

# Unit tests, hygiene, every notebook under nbval (lax), the -W book build, and the browser checks.
test: $(STAMP)
	OVERPARAM_QUIET=1 $(BIN)/python -m pytest

bench: $(STAMP)
	$(BIN)/python bench/run_all.py

lint: $(STAMP)
	$(BIN)/ruff check lib tests bench

clean:
	rm -rf _build

# Clear outputs and execution counts of every notebook (they are committed without outputs).
strip: $(STAMP)
	$(BIN)/python -c "import glob, nbformat; \
	[nbformat.write(nb, f) for f in glob.glob('chapters/*/*.ipynb') \
	 for nb in [nbformat.read(f, as_version=4)] \
	 if [c.update(outputs=[], execution_count=None) for c in nb.cells if c.cell_type == 'code'] or True]"

# A local JupyterLab with live widgets (installs jupyterlab into the venv on first use).
lab: $(STAMP)
	@$(BIN)/python -c "import jupyterlab" 2>/dev/null || $(BIN)/python -m pip install -q jupyterlab
	$(BIN)/jupyter lab chapters
