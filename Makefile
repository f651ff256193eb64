# ovn-ic-controller — the two commands: `make demo` and `make test`.
# Both install what is missing first (Debian packages, then a virtualenv).

PYTHON ?= python3
VENV ?= .venv
PREFIX ?= /opt/ovn-ic-controller
BINDIR ?= /usr/local/bin
CONFDIR ?= /etc/ovn-ic
UNITDIR ?= /etc/systemd/system
PYTEST_ARGS ?=
# The slowest tests stay visible in every run.
DURATIONS ?= --durations=20

VPY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: all deps chroots venv test unit functional demo bench lint install uninstall clean

all: test

deps:
	@scripts/install-deps.sh

# The newer OVN releases the functional tests run as peers, one Debian chroot each,
# built once and cached outside the clone (see scripts/build-release-chroot.sh).
chroots:
	@scripts/build-release-chroot.sh >/dev/null

$(STAMP): setup.cfg pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VPY) -m pip install -q --upgrade pip
	$(VPY) -m pip install -q -e '.[test]'
	touch $@

venv: $(STAMP)

# With the chroots built, a release test that cannot run one fails instead of skipping.
test: deps chroots venv
	OVN_IC_RELEASES_REQUIRED=1 $(VPY) -m pytest -q $(DURATIONS) $(PYTEST_ARGS)

unit: venv
	$(VPY) -m pytest -q tests/unit $(PYTEST_ARGS)

functional: deps chroots venv
	OVN_IC_RELEASES_REQUIRED=1 $(VPY) -m pytest -q tests/functional $(DURATIONS) $(PYTEST_ARGS)

demo: deps venv
	$(VPY) tests/demo.py

# Our daemon and the reference ovn-ic on the same route work; see bench/bench_routes.py,
# then issue 14's scenarios (many AZs, takeover, churn); see bench/bench_scenarios.py.
BENCH_ARGS ?= --sizes 1000,5000,10000 --ours-only-sizes 50000
SCENARIO_ARGS ?=
bench: deps venv
	$(VPY) bench/bench_routes.py $(BENCH_ARGS)
	$(VPY) bench/bench_scenarios.py $(SCENARIO_ARGS)

lint: venv
	$(VENV)/bin/ruff check ovn_ic_controller tests

# Installs into its own virtualenv (Debian's Python is externally managed),
# links the command into /usr/local/bin, installs the systemd unit and, only if
# none exists yet, the sample configuration.
install:
	$(PYTHON) -m venv $(PREFIX)
	$(PREFIX)/bin/pip install -q .
	ln -sf $(PREFIX)/bin/ovn-ic-controller $(BINDIR)/ovn-ic-controller
	install -d $(CONFDIR)
	test -e $(CONFDIR)/controller.conf || install -m 0640 etc/controller.conf $(CONFDIR)/controller.conf
	install -m 0644 systemd/ovn-ic-controller.service $(UNITDIR)/ovn-ic-controller.service
	@if [ -d /run/systemd/system ]; then systemctl daemon-reload; fi
	@echo "installed; edit $(CONFDIR)/controller.conf, then: systemctl enable --now ovn-ic-controller"

uninstall:
	@if [ -d /run/systemd/system ]; then systemctl disable --now ovn-ic-controller || true; fi
	rm -f $(UNITDIR)/ovn-ic-controller.service $(BINDIR)/ovn-ic-controller
	rm -rf $(PREFIX)
	@echo "kept $(CONFDIR)/controller.conf"

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache .ruff_cache .hypothesis

# A Debian package of this tree, built by dpkg-buildpackage from debian/ (the
# daemon and its PyPI dependencies in their own virtualenv), cached per source
# content: ./ovn-ic-controller_<version>_<arch>.deb. See scripts/build-deb.sh.
.PHONY: deb clean-deb
deb:
	scripts/build-deb.sh .

clean: clean-deb
clean-deb:
	rm -f ovn-ic-controller_*.deb
