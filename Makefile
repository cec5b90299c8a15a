# mediahub: `make run` starts everything, `make test` runs the whole suite.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python

.PHONY: run test browser frontserver clean-test messages

$(PY):
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: requirements.txt | $(PY)
	$(PY) -m pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed tests/requirements.txt
	$(PY) -m pip install --quiet -r tests/requirements.txt
	touch $@

run: $(VENV)/.installed
	$(PY) manage.py serve

# Browser tests drive Debian's chromium; install it when missing and we may.
browser:
	@command -v chromium >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 && \
		(apt-get install -y -q chromium >/dev/null 2>&1 || (apt-get update -q >/dev/null && apt-get install -y -q chromium >/dev/null)); } || \
		echo "chromium is not installed and cannot be: the browser tests will fail"

# A media test puts a real nginx in front of the app (X-Accel-Redirect); install it when missing and we may.
frontserver:
	@command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 && \
		(apt-get install -y -q nginx-light >/dev/null 2>&1 || (apt-get update -q >/dev/null && apt-get install -y -q nginx-light >/dev/null)); } || \
		echo "nginx is not installed and cannot be: the front-server media test will fail"

test: $(VENV)/.installed-test browser frontserver
	$(PY) -m pytest tests

# Interface translations (README, "Languages and screens"): re-extract every marked string into
# locale/<lang>/LC_MESSAGES/django.po (needs GNU gettext), then compile the .mo files the app reads.
# Both are committed, so `make run` needs no gettext.
messages: $(VENV)/.installed
	$(PY) manage.py makemessages -l zh_Hans --no-obsolete --add-location=file --ignore=.venv --ignore=var --ignore=tests --ignore=bench --ignore=tools
	$(PY) manage.py compilemessages --ignore=.venv --ignore=var
