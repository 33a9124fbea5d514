#!/usr/bin/env bash
# One short, prepared check on a machine with a real GPU (the workplace's device machine, or yours):
# real NVML detection, `check` on the detected GPU, PyTorch micro-benchmarks on CUDA. Prints a
# summary and leaves the JSON outputs in $OUT (default ./device-check-out).
#
# On the device machine (Python 3.12, torch + nvidia-ml-py + rich + click present; pydantic,
# platformdirs and gguf missing), first download the missing wheels here, into .whl/ (git-ignored):
#   python3 -m pip download --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
#     --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 -d .whl \
#     pydantic==2.14.4 pydantic-core==2.50.5 annotated-types==0.8.0 typing-inspection==0.4.5 platformdirs==4.14.8
# then run this script with `.whl` carried. Budget: about 2 minutes of device time.
set -u
cd "$(dirname "$0")/.."
OUT="${OUT:-device-check-out}"
mkdir -p "$OUT"
PY="${PYTHON:-python3}"
if ls .whl/*.whl >/dev/null 2>&1; then
  "$PY" -m pip install -q --no-index --no-deps --no-compile --target /tmp/hwbench-site .whl/*.whl || exit 1
  export PYTHONPATH="/tmp/hwbench-site:${PYTHONPATH:-}"
fi
export PYTHONPATH="$PWD:${PYTHONPATH:-}" HWBENCH_CACHE_DIR="$OUT/cache" HWBENCH_DATA_DIR="$OUT/data" PYTHONUNBUFFERED=1
hw() { timeout "${STEP_TIMEOUT:-240}" "$PY" -m hwbench "$@"; }
rc=0
echo "== nvidia-smi"; (nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv 2>&1 || true) | tee "$OUT/nvidia-smi.txt"
echo "== hwbench detect (real NVML)"; hw detect --json > "$OUT/detect.json" || rc=1
"$PY" - "$OUT/detect.json" <<'PYEOF' || rc=1
import json, sys
d = json.load(open(sys.argv[1]))
for g in d["gpus"]:
    print(f"GPU{g['index']}: {g['name']} {g.get('memory_total_bytes', 0) / 2**30:.1f} GiB, cc {g.get('compute_capability')}, "
          f"driver {g.get('driver_version')}, CUDA {g.get('cuda_version')}, PCIe gen {g.get('pcie_gen')} x{g.get('pcie_width')}, "
          f"power {g.get('power_limit_w')} W, unified={g.get('unified_memory')}, notes={g.get('notes')}")
print("warnings:", d["warnings"], "notes:", d.get("notes"))
if not d["gpus"]:
    sys.exit("no GPU detected through NVML")
PYEOF
echo "== hwbench check on the detected GPU"
for args in "--model llama-3.1-8b --quant q4_k_m --context 8192" "--model llama-3.1-70b --quant q4_k_m" "--params 405b --quant q4"; do
  name=$(echo "$args" | tr -c 'a-z0-9' '_' | cut -c1-60)
  hw check $args --json > "$OUT/check_$name.json" || rc=1
  "$PY" -c "import json,sys; d=json.load(open(sys.argv[1])); print(sys.argv[2], '->', d['verdict'], d['gpu_layers'], '/', d['total_layers'], 'layers;', round(d['memory']['total_bytes']/2**30,1), 'GiB;', d['speed']['generation_tokens_per_s'], 'tg tok/s,', d['speed']['prompt_tokens_per_s'], 'pp tok/s (estimated)')" "$OUT/check_$name.json" "$args" || rc=1
done
echo "== hwbench bench --micro-only (PyTorch on CUDA and CPU)"
hw bench --micro-only --json --out "$OUT/results" > "$OUT/micro.json" || rc=1
"$PY" -c "
import json,sys
d=json.load(open(sys.argv[1]))
for r in d['results']:
    v = r.get('value') if r.get('value') is not None else r.get('tokens_per_s')
    print(f\"{r['test']:28s} {r.get('device') or '':10s} {v} {r.get('unit') or 'tokens/s'} {r.get('error') or ''}\")
" "$OUT/micro.json" || rc=1
echo "device check finished, rc=$rc"
exit $rc
