# CNN course: every command sets up what it needs (the virtualenv in .venv) first.
#   make demo    install, regenerate release/, grade the bundled demo class, print the scores
#   make test    install, run the style gate (make lint: ruff, mypy) and the whole test suite (what CI runs)
#   make release regenerate the student versions in release/ from source/, and each edition's (editions/<language>/)
#   make translations  refresh the translation catalogs from the English and list what is left (docs/translating.md)
#   make grade   autograde everything in submitted/, then feedback and grades.csv
#   make lab     JupyterLab with the nbgrader extensions, for this course directory (EDITION=ru: the Russian edition)
#   make hub     (root) JupyterHub for a class: Unix accounts, PAM logins, nbgrader exchange (docs/hub.md)
#   make screenshots  refresh docs/screenshots/ (the README's pictures) from the browser tests
#   make bench   run the benchmarks in benchmarks/ (ratios measured within one run)
#   make clean   remove grading output (submitted/, autograded/*, feedback/, gradebook.db, grades.csv)

# As root, the virtualenv is made from the system's Python when it is recent enough: the hub's users run the
# course's programs (make hub), and a root-only interpreter (e.g. pyenv under /root) is not theirs to run.
PYTHON ?= $(shell [ "$$(id -u)" = 0 ] && /usr/bin/python3 -c 'import sys, venv, ensurepip; assert sys.version_info >= (3, 10)' \
	2>/dev/null && echo /usr/bin/python3 || echo python3)
VENV := .venv
PY := $(VENV)/bin/python
# the course's command line (grader_utils/instructor/cli.py); every target below goes through it
CNN := $(PY) -m grader_utils
# What each kind of user installs (docs/install.md); each group is a stamp, so a later `make test` adds only what
# `make demo` did not install. The course: the student's and instructor's packages (requirements/instructor.txt)
# and Debian's bubblewrap for sandboxed grading. The hub adds JupyterHub. The tests add pytest, Playwright, SciPy,
# ruff and mypy (requirements/test.txt, which includes the hub's) and Debian's chromium and postgresql.
STAMP := $(VENV)/.installed-course
HUB_STAMP := $(VENV)/.installed-hub
TEST_STAMP := $(VENV)/.installed-test
# nbgrader runs helper programs (alembic, jupyter) by name: put the venv first on PATH.
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)
export PYTHONDONTWRITEBYTECODE := 1
ASSIGNMENTS := $(sort $(notdir $(wildcard source/*)))

.PHONY: install install-hub install-test demo lint test test-fast release translations grade lab hub screenshots bench clean

# `apt-get install` of a missing Debian package as root; otherwise a NOTE. $(call apt,COMMAND-TEST,PACKAGE,WHY)
apt = { $(1); } || { if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	apt-get update -q && apt-get install -y -q $(2); \
	else echo "NOTE: install $(2) (sudo apt-get install $(2)) $(3)"; fi; }

# A course folder copied or moved with its .venv: the virtualenv's editable install and its programs' first lines
# still name the old folder. MOVED is that folder (empty when the venv is this folder's); `make install` (any
# target) then repairs the venv in place: programs and activate scripts rewritten, the editable install redone.
MOVED := $(shell sed -n 's|.*"url": *"file://\([^"]*\)".*|\1|p' $(VENV)/lib/python*/site-packages/grader_utils-*.dist-info/direct_url.json 2>/dev/null | grep -vx '$(CURDIR)' | head -1)

install: $(STAMP)
install-hub: $(HUB_STAMP)
install-test: $(TEST_STAMP)

$(STAMP): requirements/student.txt requirements/instructor.txt pyproject.toml $(if $(MOVED),relocate-venv)
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 10), "Python 3.10+ is needed, found " + sys.version' 
	@$(call apt,command -v bwrap >/dev/null,bubblewrap,for sandboxed grading)
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements/instructor.txt
	$(PY) -m pip install --quiet --no-deps -e .
	touch $(STAMP)

.PHONY: relocate-venv
relocate-venv:
	@echo "NOTE: $(VENV) was installed for $(MOVED); repairing it for $(CURDIR)"
	grep -Ilr -- '$(MOVED)/$(VENV)' $(VENV)/bin | xargs -r sed -i 's|$(MOVED)/$(VENV)|$(CURDIR)/$(VENV)|g'

$(HUB_STAMP): $(STAMP) requirements/hub.txt
	$(PY) -m pip install --quiet -r requirements/hub.txt
	touch $(HUB_STAMP)

$(TEST_STAMP): $(HUB_STAMP) requirements/test.txt requirements.txt
	@$(call apt,command -v chromium >/dev/null,chromium,for the browser tests)
	@$(call apt,command -v initdb >/dev/null && command -v pg_ctl >/dev/null || \
		ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1,postgresql,to run the PostgreSQL gradebook tests)
	@$(call apt,command -v soffice >/dev/null,libreoffice-calc-nogui,to open the grade exports as a spreadsheet does)
	$(PY) -m pip install --quiet -r requirements/test.txt
	touch $(TEST_STAMP)

release: $(STAMP)
	$(CNN) release

# the catalogs of every edition brought up to date with the English (new texts untranslated, changed ones fuzzy);
# exits 1 while something is left to translate (docs/translating.md)
translations: $(STAMP)
	$(CNN) translations --list

JOBS ?= $(shell nproc 2>/dev/null || echo 2)

grade: $(STAMP)
	@graded="$$(for a in $(ASSIGNMENTS); do ls -d submitted/*/$$a >/dev/null 2>&1 && echo $$a; done)"; \
	if [ -z "$$graded" ]; then echo "nothing in submitted/"; exit 0; fi; \
	echo "== grade $$(echo $$graded) ($(JOBS) workers: sandboxed kernels, then the trusted engine)"; \
	$(CNN) grade $$graded --jobs $(JOBS) || exit 1; \
	for a in $$graded; do $(CNN) feedback $$a || exit 1; done
	nbgrader export --log-level=ERROR
	@echo "Grades: grades.csv; feedback: feedback/<student>/<assignment>/"

demo: release
	$(CNN) demo
	$(MAKE) --no-print-directory grade
	@for a in $(ASSIGNMENTS); do \
		if ls submitted/*/$$a >/dev/null 2>&1; then \
			echo; echo "== scores: $$a (points / possible per exercise)"; \
			$(CNN) table $$a; \
			$(CNN) report $$a || exit 1; \
		fi; \
	done
	@echo; echo "== exports for a spreadsheet and the LMS"
	@for f in csv canvas moodle; do $(CNN) export --format $$f || exit 1; done

# the style gate (seconds; before any test): ruff's lint of the package, tests and benchmarks; ruff's format
# check; mypy on the package
lint: $(TEST_STAMP)
	$(PY) -m ruff check grader_utils tests benchmarks
	$(PY) -m ruff format --check grader_utils tests benchmarks
	$(PY) -m mypy

# --durations: the slowest tests, to keep the whole run under CI's 40 minutes (docs/testing.md)
test: lint
	$(PY) -m pytest --durations=25

# the fast tier (no kernels, sandboxes, TensorFlow, browsers, PostgreSQL, nbgrader runs): tests/conftest.py's --fast
test-fast: lint
	$(PY) -m pytest --fast

screenshots: $(TEST_STAMP)
	UPDATE_SCREENSHOTS=1 $(PY) -m pytest tests/test_browser.py

bench: $(STAMP)
	$(PY) benchmarks/bench_conv2d.py
	$(PY) benchmarks/bench_grading.py

# JupyterLab on this course directory (also its working directory: nbgrader's Validate button, Assignments
# panel and Formgrader read nbgrader_config.py there). Open the http://127.0.0.1:8888/lab?token=... URL it prints.
# EDITION=ru: on the Russian edition's course directory, editions/ru/ (its own course id; the same exchange/).
LAB_PORT ?= 8888
EDITION ?=
LAB_DIR := $(if $(EDITION),$(CURDIR)/editions/$(EDITION),$(CURDIR))
lab: $(STAMP)
	@test -f $(LAB_DIR)/nbgrader_config.py || { echo "no edition '$(EDITION)' (editions/: $$(ls editions))"; exit 1; }
	@mkdir -p exchange && chmod 0777 exchange
	@echo "== JupyterLab with nbgrader (Validate button; Nbgrader menu: Formgrader, Assignment List) on $(LAB_DIR)"
	@echo "== open the URL with the token printed below (http://127.0.0.1:$(LAB_PORT)/lab?token=...); Ctrl-C stops it"
	cd $(LAB_DIR) && NBGRADER_EXCHANGE_ROOT=$(CURDIR)/exchange jupyter lab --ip=127.0.0.1 --port=$(LAB_PORT) \
		--ServerApp.root_dir=$(LAB_DIR) $(if $(filter 0,$(shell id -u)),--allow-root)

# JupyterHub for a class on this machine (root: it creates Unix users; see docs/hub.md). hub/setup.sh prepares
# the accounts, the exchange and the instructor's course copy, and prints the URL and accounts; Ctrl-C stops
# the hub, its proxy and every user's server.
HUB_PORT ?= 8000
hub: $(HUB_STAMP)
	CNN_HUB_PORT=$(HUB_PORT) CNN_HUB_EDITION=$(EDITION) hub/setup.sh
	CNN_HUB_PORT=$(HUB_PORT) exec jupyterhub -f $(CURDIR)/hub/jupyterhub_config.py

clean:
	rm -rf submitted feedback gradebook.db grades.csv grades-*.csv reports .pytest_cache
	find autograded -mindepth 1 ! -name README.md -exec rm -rf {} +
