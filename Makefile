# Two commands on a fresh machine: `make demo` and `make test`. Each sets up what it needs.
PY      := .venv/bin/python
STAMP   := .venv/.installed
APT_STAMP := .venv/.apt
QT_LIBS := libgl1 libegl1 libxkbcommon0 libxkbcommon-x11-0 libfontconfig1 libdbus-1-3 libglib2.0-0

.PHONY: demo test test-slow bench lint clean

$(PY):
	python3 -m venv .venv

# Qt's offscreen platform still loads a few system libraries; install them when missing.
$(APT_STAMP): | $(PY)
	@if ! ldconfig -p | grep -q libxkbcommon.so.0 || ! ldconfig -p | grep -q libEGL.so.1 || ! ldconfig -p | grep -q libfontconfig.so.1; then \
	  if command -v apt-get >/dev/null; then \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(QT_LIBS)) >/dev/null \
	      || echo "warning: could not install Qt system libraries ($(QT_LIBS)); GUI tests may fail"; \
	  fi; \
	fi
	@touch $@

$(STAMP): setup.cfg pyproject.toml | $(PY) $(APT_STAMP)
	$(PY) -m pip install -q --upgrade pip setuptools wheel
	$(PY) -m pip install -q -e ".[gui,test]"
	@touch $@

demo: $(STAMP)
	.venv/bin/aaspi demo --project aaspi_demo --overwrite

# The Qt tests run in their own pytest process: widgets and the thread pools that the
# compute tests leave behind (dask, numba, distributed) do not share one process reliably.
test: $(STAMP)
	$(PY) -m pytest -q -p no:cacheprovider --ignore-glob='tests/test_gui_*'
	$(PY) -m pytest -q -p no:cacheprovider tests/test_gui_*.py

test-slow: $(STAMP)
	$(PY) -m pytest -q -p no:cacheprovider -m slow

bench: $(STAMP)
	@for b in benches/[!_]*.py; do echo "== $$b"; $(PY) $$b || exit 1; done

lint: $(STAMP)
	.venv/bin/ruff check .

clean:
	rm -rf .venv aaspi_demo build *.egg-info
