# hwbench: the two set-up commands of the README's Quickstart.
#   make report   create .venv, install hwbench with its extras, benchmark this machine, write reports/hwbench-report.html
#   make test     install what the tests need (Python packages, Debian's chromium and openssh-server), lint, run them all
PY ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# torch: the exact CPU build pip finds on this project's machines; asking for plain `torch`
# would download a multi-GB CUDA build. Override with `make TORCH_SPEC=torch==X ...`.
TORCH_SPEC ?= torch==2.13.0
# SkyPilot (for the `fleet sky` tests) pins click<8.2, so it gets its own venv, never .venv
SKY_VENV ?= .venv-sky

.PHONY: venv install install-test report test test-fast lint clean

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

venv: $(BIN)/python

# llama.cpp's AMX kernels, which -march=native builds in on CPUs that list amx_int8, crash (SIGSEGV at the first
# quantized matmul) in VMs that advertise AMX without giving the guest its tile state, as this project's Firecracker
# machines do. On such CPUs llama-cpp-python is built with AMX off (the rest of -march=native kept) into a wheelhouse
# of its own, so that pip's cache can never hand back a wheel built with AMX. HWBENCH_LLAMA_AMX=1 keeps AMX.
LLAMA_SPEC ?= llama-cpp-python>=0.3
LLAMA_NO_AMX_FLAGS := -mno-amx-tile -mno-amx-int8 -mno-amx-bf16
LLAMA_WHEELS ?= $(HOME)/.cache/hwbench/wheels/llama-no-amx
NO_AMX := $(if $(HWBENCH_LLAMA_AMX),,$(shell grep -qw amx_int8 /proc/cpuinfo 2>/dev/null && echo 1))

install: venv
	$(BIN)/pip install -q "$(TORCH_SPEC)"
	@if [ -n "$(NO_AMX)" ] && ! $(BIN)/python -c "import sys, llama_cpp.llama_cpp as L; sys.exit(b'AMX_INT8 = 1' in L.llama_print_system_info())" >/dev/null 2>&1; then \
	  if ! ls $(LLAMA_WHEELS)/llama_cpp_python-*.whl >/dev/null 2>&1; then \
	    echo "building llama-cpp-python without AMX (this CPU lists AMX; llama.cpp's AMX kernels crash in VMs without its state)"; \
	    CFLAGS="$(LLAMA_NO_AMX_FLAGS)" CXXFLAGS="$(LLAMA_NO_AMX_FLAGS)" \
	      $(BIN)/pip wheel -q --no-cache-dir --no-deps -w $(LLAMA_WHEELS) "$(LLAMA_SPEC)" || exit 1; \
	  fi; \
	  $(BIN)/pip install -q --force-reinstall --no-deps $$(ls -t $(LLAMA_WHEELS)/llama_cpp_python-*.whl | head -1) || exit 1; \
	fi
	$(BIN)/pip install -q -e ".[nvidia,llamacpp,fleet,test]"

# The browser tests fail (never skip) without Chromium: a failed install stops here, loudly.
install-test: install
	@if [ -z "$$HWBENCH_CHROMIUM" ] && ! command -v chromium >/dev/null 2>&1; then \
	  echo "installing Debian's chromium for the browser tests"; \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
	  || (sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
	  || { echo "error: could not install chromium, which the browser tests need: install it or set HWBENCH_CHROMIUM (make test-fast runs without it)" >&2; exit 1; }; \
	  command -v chromium >/dev/null 2>&1 || { echo "error: chromium was installed but is not on PATH" >&2; exit 1; }; \
	fi
	@if [ ! -x /usr/sbin/sshd ]; then \
	  echo "installing Debian's openssh-server for the fleet tests (they start sshd as you, on 127.0.0.1)"; \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openssh-server >/dev/null) \
	  || (sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openssh-server >/dev/null) \
	  || { echo "error: could not install openssh-server, which the fleet tests need" >&2; exit 1; }; \
	fi
	@# sshd started by root insists on /run/sshd, which systemd creates at boot (not in containers)
	@if [ "$$(id -u)" = 0 ] && [ ! -d /run/sshd ]; then mkdir -p -m 0755 /run/sshd; fi
	@if ! $(SKY_VENV)/bin/python -c "import sky" >/dev/null 2>&1; then \
	  echo "installing SkyPilot into $(SKY_VENV) for the fleet sky tests (its own parser checks our task YAML)"; \
	  ($(PY) -m venv $(SKY_VENV) && $(SKY_VENV)/bin/pip install -q "skypilot>=0.10") \
	  || { echo "error: could not install SkyPilot into $(SKY_VENV), which the fleet sky tests need" >&2; exit 1; }; \
	fi

# The main job: inventory, one real llama.cpp benchmark (a small synthetic model, ~20 s on 2 cores;
# it also calibrates `hwbench check`), then the HTML report with the measurements in it.
report: install
	$(BIN)/hwbench detect
	$(BIN)/hwbench bench --out reports/results
	$(BIN)/hwbench report reports/results/*.json --this-machine -o reports/hwbench-report.html
	@echo "report written to reports/hwbench-report.html"

test: install-test
	$(BIN)/ruff check hwbench tests scripts
	$(BIN)/mypy hwbench
	$(BIN)/python -m pytest -q

test-fast: install
	$(BIN)/python -m pytest -q -m "not slow"

lint:
	$(BIN)/ruff check hwbench tests scripts
	$(BIN)/mypy hwbench

clean:
	rm -rf $(VENV) $(SKY_VENV) build *.egg-info .pytest_cache
