#!/usr/bin/env bash
# On a machine with a real GPU: the engine, train, distill and generate benchmarks on `webgpu`
# beside `cpu` (and PyTorch on the CPU, as every benchmark runs it), plus PyTorch on CUDA where
# torch sees a GPU. Writes one JSON file per benchmark into OUT (default .bench/gpu/) and prints
# which adapter WebGPU used, so a figure never comes from a software renderer unnoticed.
#
#   bash bench/gpu.sh [OUT]
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-.bench/gpu}
mkdir -p "$out"
deno=${DENO:-deno}

adapter=$("$deno" eval 'const a = await navigator.gpu?.requestAdapter();
console.log(a ? `${a.info.description || a.info.vendor} (${a.info.isFallbackAdapter ? "software" : "hardware"})` : "none")')
echo "WebGPU adapter: $adapter" | tee "$out/adapter.txt"
case "$adapter" in
  *hardware*) ;;
  *) echo "bench/gpu.sh: no hardware WebGPU adapter here; the webgpu figures would mean nothing" >&2; exit 1 ;;
esac

for bench in engine train distill generate; do
  echo "== $bench" >&2
  "$deno" task bench "$bench" --backends cpu,webgpu --json > "$out/$bench.json"
done

# PyTorch on CUDA: raw 4096² MatMul throughput, the ceiling a GPU step is measured against.
python3 - > "$out/torch-cuda.json" <<'PY' || echo "bench/gpu.sh: no PyTorch with CUDA here" >&2
import json, time, torch
if not torch.cuda.is_available():
    raise SystemExit(1)
n, reps = 4096, 50
a = torch.rand(n, n, device="cuda"); b = torch.rand(n, n, device="cuda")
torch.cuda.synchronize(); t = time.perf_counter()
for _ in range(reps): a @ b
torch.cuda.synchronize(); s = time.perf_counter() - t
print(json.dumps({"results": [{"metric": "torch cuda matmul 4096", "unit": "GFLOP/s",
  "ours": None, "reference": 2 * n**3 * reps / s / 1e9, "ratio": None}],
  "device": torch.cuda.get_device_name(0)}))
PY
echo "wrote $out/{adapter.txt,engine,train,distill,generate,torch-cuda}.json" >&2
