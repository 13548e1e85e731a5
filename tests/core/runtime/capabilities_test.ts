import assert from "node:assert/strict";
import type { BackendCapabilities, BackendName } from "../../../core/runtime/mod.ts";
import { probeBackends, titled } from "../../_support/backends.ts";

const probes = await probeBackends();
// WebGPU here may be a software adapter (llvmpipe) or a real GPU; its renderer follows the adapter.
const fallback = (await navigator.gpu?.requestAdapter())?.info.isFallbackAdapter ?? false;

/** What each backend must declare. */
const EXPECTED: Record<BackendName, BackendCapabilities> = {
  cpu: { keepsOutputsOnDevice: false, readsHostInputsInPlace: true, softwareRenderer: false },
  wasm: { keepsOutputsOnDevice: false, readsHostInputsInPlace: false, softwareRenderer: false },
  webgpu: { keepsOutputsOnDevice: true, readsHostInputsInPlace: false, softwareRenderer: fallback },
};

for (const [name, expected] of Object.entries(EXPECTED) as [BackendName, BackendCapabilities][]) {
  Deno.test({
    name: titled(`the ${name} backend declares its capabilities`, probes[name]),
    ignore: probes[name].backend === undefined,
    sanitizeOps: false,
    sanitizeResources: false,
    fn() {
      assert.deepEqual(probes[name].backend!.capabilities, expected);
    },
  });
}
