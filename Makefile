# CNN course: every command sets up what it needs (the virtualenv in .venv) first.
#   make demo    install, regenerate release/, grade the bundled demo class, print the scores
#   make test    install and run the whole test suite (what CI runs)
#   make test-fast  the fast tier of the tests (pure logic and feedback goldens; under two minutes)
#   make release regenerate the student versions in release/ from source/
#   make grade   autograde everything in submitted/, then feedback and grades.csv
#   make lab     JupyterLab with the nbgrader extensions, for this course directory
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
STAMP := $(VENV)/.installed-stamp
# nbgrader runs helper programs (alembic, jupyter) by name: put the venv first on PATH.
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)
export PYTHONDONTWRITEBYTECODE := 1
ASSIGNMENTS := $(sort $(notdir $(wildcard source/*)))

.PHONY: install demo test test-fast release grade lab hub screenshots bench clean

install: $(STAMP)

$(STAMP): requirements.txt pyproject.toml
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 10), "Python 3.10+ is needed, found " + sys.version' 
	@command -v bwrap >/dev/null || { if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		apt-get update -q && apt-get install -y -q bubblewrap; \
		else echo "NOTE: install bubblewrap (sudo apt-get install bubblewrap) for sandboxed grading"; fi; }
	@command -v chromium >/dev/null || { if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		apt-get update -q && apt-get install -y -q chromium; \
		else echo "NOTE: install chromium (sudo apt-get install chromium) for the browser tests"; fi; }
	@command -v initdb >/dev/null && command -v pg_ctl >/dev/null || ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1 || { \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		apt-get update -q && apt-get install -y -q postgresql; \
		else echo "NOTE: install PostgreSQL (sudo apt-get install postgresql) to run the PostgreSQL gradebook tests"; fi; }
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	$(PY) -m pip install --quiet --no-deps -e .
	touch $(STAMP)

release: $(STAMP)
	@for a in $(ASSIGNMENTS); do \
		echo "== release $$a"; \
		nbgrader generate_assignment $$a --force --log-level=WARN || exit 1; \
	done

JOBS ?= $(shell nproc 2>/dev/null || echo 2)

grade: $(STAMP)
	@graded="$$(for a in $(ASSIGNMENTS); do ls -d submitted/*/$$a >/dev/null 2>&1 && echo $$a; done)"; \
	if [ -z "$$graded" ]; then echo "nothing in submitted/"; exit 0; fi; \
	echo "== grade $$(echo $$graded) ($(JOBS) workers: sandboxed kernels, then the trusted engine)"; \
	$(PY) -m grader_utils grade $$graded --jobs $(JOBS) || exit 1; \
	for a in $$graded; do $(PY) -m grader_utils feedback $$a || exit 1; done
	nbgrader export --log-level=ERROR
	@echo "Grades: grades.csv; feedback: feedback/<student>/<assignment>/"

demo: release
	$(PY) -m grader_utils.course demo-submissions
	$(MAKE) --no-print-directory grade
	@for a in $(ASSIGNMENTS); do \
		if ls submitted/*/$$a >/dev/null 2>&1; then \
			echo; echo "== scores: $$a (points / possible per exercise)"; \
			$(PY) -m grader_utils.course table $$a; \
			$(PY) -m grader_utils report $$a || exit 1; \
		fi; \
	done
	@echo; echo "== exports for a spreadsheet and the LMS"
	@for f in csv canvas moodle; do $(PY) -m grader_utils export --format $$f || exit 1; done

test: $(STAMP)
	$(PY) -m pytest

# the fast tier (no kernels, sandboxes, TensorFlow, browsers, PostgreSQL, nbgrader runs): tests/conftest.py's --fast
test-fast: $(STAMP)
	$(PY) -m pytest --fast

screenshots: $(STAMP)
	UPDATE_SCREENSHOTS=1 $(PY) -m pytest tests/test_browser.py

bench: $(STAMP)
	$(PY) benchmarks/bench_conv2d.py
	$(PY) benchmarks/bench_grading.py

# JupyterLab on this course directory (also its working directory: nbgrader's Validate button, Assignments
# panel and Formgrader read nbgrader_config.py there). Open the http://127.0.0.1:8888/lab?token=... URL it prints.
LAB_PORT ?= 8888
lab: $(STAMP)
	@mkdir -p exchange && chmod 0777 exchange
	@echo "== JupyterLab with nbgrader (Validate button; Nbgrader menu: Formgrader, Assignment List) on $(CURDIR)"
	@echo "== open the URL with the token printed below (http://127.0.0.1:$(LAB_PORT)/lab?token=...); Ctrl-C stops it"
	NBGRADER_EXCHANGE_ROOT=$(CURDIR)/exchange jupyter lab --ip=127.0.0.1 --port=$(LAB_PORT) \
		--ServerApp.root_dir=$(CURDIR) $(if $(filter 0,$(shell id -u)),--allow-root)

# JupyterHub for a class on this machine (root: it creates Unix users; see docs/hub.md). hub/setup.sh prepares
# the accounts, the exchange and the instructor's course copy, and prints the URL and accounts; Ctrl-C stops
# the hub, its proxy and every user's server.
HUB_PORT ?= 8000
hub: $(STAMP)
	CNN_HUB_PORT=$(HUB_PORT) hub/setup.sh
	CNN_HUB_PORT=$(HUB_PORT) exec jupyterhub -f $(CURDIR)/hub/jupyterhub_config.py

clean:
	rm -rf submitted feedback gradebook.db grades.csv grades-*.csv reports .pytest_cache
	find autograded -mindepth 1 ! -name README.md -exec rm -rf {} +
