# Two commands on a fresh machine: `make train` and `make test`. Everything else is set up by them.
PY      ?= python3
VENV    := .venv
BIN     := $(VENV)/bin
STAMP   := $(VENV)/.installed
# Headless MuJoCo rendering through EGL (Mesa on the CPU); see README "Rendering".
export MUJOCO_GL ?= egl

.PHONY: train test setup gl clean

$(STAMP): pyproject.toml
	@$(MAKE) --no-print-directory gl
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	# Pin torch first: a CPU build. An unpinned torch would pull a multi-GB CUDA build.
	$(BIN)/pip install -q torch==2.13.0
	$(BIN)/pip install -q -e ".[dev]"
	touch $(STAMP)

setup: $(STAMP)

# EGL libraries for headless rendering; installed only when missing and when we may (root + apt).
gl:
	@if ! ldconfig -p 2>/dev/null | grep -q libEGL_mesa; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    apt-get update -qq && apt-get install -y -qq libegl1 libegl-mesa0 libgl1-mesa-dri >/dev/null; \
	  else echo "warning: EGL (libegl1 libegl-mesa0 libgl1-mesa-dri) missing: videos need it"; fi; \
	fi

train: $(STAMP)
	# A fresh run each time: `--resume runs/make-train` continues one instead.
	rm -rf runs/make-train
	$(BIN)/python -m sensorimotor train ppo --env HalfCheetah-v5 --preset make-train --run-dir runs/make-train
	$(BIN)/python -m sensorimotor evaluate runs/make-train --episodes 5 --video

# Two workers, whole files each (tests in one file share ports and compiled MJX steps): ~2x faster;
# files with learning tests go first (tests/conftest.py), hence --no-loadscope-reorder.
test: $(STAMP)
	$(BIN)/python -m pytest -q -n 2 --dist loadfile --no-loadscope-reorder tests

clean:
	rm -rf $(VENV) runs
