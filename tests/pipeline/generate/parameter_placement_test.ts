import assert from "node:assert/strict";
import type { Backend, BackendCapabilities } from "../../../core/runtime/mod.ts";
import { openBackend } from "../../../core/runtime/mod.ts";
import {
  parameterBytes,
  parameterPlacement,
  SHARED_PARAMETERS_ABOVE_BYTES,
} from "../../../pipeline/generate/mod.ts";

/** A backend that only declares capabilities (placement reads nothing else). */
function declaring(capabilities: Partial<BackendCapabilities>): Backend {
  return {
    capabilities: {
      keepsOutputsOnDevice: false,
      readsHostInputsInPlace: false,
      softwareRenderer: false,
      ...capabilities,
    },
  } as Backend;
}

const SMALL = SHARED_PARAMETERS_ABOVE_BYTES; // at the bound: still baked in
const LARGE = SHARED_PARAMETERS_ABOVE_BYTES + 4;

Deno.test("cpu bakes small parameters into each graph and shares large ones as inputs", async () => {
  const { backend } = await openBackend("cpu", { threads: 1 });
  assert.equal(parameterPlacement(backend, SMALL), "initializers");
  assert.equal(parameterPlacement(backend, LARGE), "inputs");
});

Deno.test("a backend that copies host inputs bakes parameters in at any size", () => {
  const wasmLike = declaring({});
  assert.equal(parameterPlacement(wasmLike, SMALL), "initializers");
  assert.equal(parameterPlacement(wasmLike, 100 * LARGE), "initializers");
});

Deno.test("a backend that keeps outputs on the device shares parameters at any size", () => {
  const gpuLike = declaring({ keepsOutputsOnDevice: true });
  assert.equal(parameterPlacement(gpuLike, 1), "inputs");
  assert.equal(parameterPlacement(gpuLike, LARGE), "inputs");
});

Deno.test("parameterBytes sums the float32 arrays' bytes", () => {
  assert.equal(parameterBytes([new Float32Array(3), new Float32Array(5)]), 32);
  assert.equal(parameterBytes([]), 0);
});
