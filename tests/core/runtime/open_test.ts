import assert from "node:assert/strict";
import {
  type Backend,
  type BackendOpeners,
  BackendUnavailableError,
  matMulModel,
  openBackend,
  openCpu,
  openWasm,
  openWebGpu,
} from "../../../core/runtime/mod.ts";

const loose = { sanitizeOps: false, sanitizeResources: false };

/** Openers where each backend either fails with a reason or returns a stub. */
function fake(unavailable: Partial<Record<"webgpu" | "cpu" | "wasm", string>>): BackendOpeners {
  const make = (name: "webgpu" | "cpu" | "wasm") => (_: unknown, auto: boolean) => {
    const reason = unavailable[name];
    if (reason !== undefined) return Promise.reject(new BackendUnavailableError(name, reason));
    const stub: Backend = {
      name,
      capabilities: {
        keepsOutputsOnDevice: name === "webgpu",
        readsHostInputsInPlace: name === "cpu",
        softwareRenderer: false,
      },
      threads: 1,
      description: `stub (auto=${auto})`,
      createSession: () => Promise.reject(new Error("stub")),
    };
    return Promise.resolve(stub);
  };
  return { webgpu: make("webgpu"), cpu: make("cpu"), wasm: make("wasm") };
}

Deno.test("openWebGpu() without WebGPU names the backend and the reason", async () => {
  await assert.rejects(openWebGpu({ gpu: null }), {
    name: "BackendUnavailableError",
    message: 'Backend "webgpu" is unavailable: navigator.gpu is not defined',
  });
});

Deno.test("openWebGpu() refuses a software adapter when hardware is required", async () => {
  const adapter = await navigator.gpu?.requestAdapter();
  if (!adapter?.info.isFallbackAdapter) return; // a real GPU here: nothing to refuse
  await assert.rejects(
    openWebGpu({ requireHardware: true }),
    /Backend "webgpu" is unavailable: the only adapter is a software fallback/,
  );
});

Deno.test("openBackend('auto') falls through unavailable backends and says why", async () => {
  const { backend, skipped } = await openBackend(
    "auto",
    {},
    fake({ webgpu: "no GPU adapter was found" }),
  );
  assert.equal(backend.name, "cpu");
  assert.deepEqual(skipped, [{ backend: "webgpu", reason: "no GPU adapter was found" }]);
  const last = await openBackend("auto", {}, fake({ webgpu: "a", cpu: "b" }));
  assert.equal(last.backend.name, "wasm");
});

Deno.test("openBackend('auto') asks webgpu for a hardware adapter, a named backend does not", async () => {
  assert.equal((await openBackend("auto", {}, fake({}))).backend.description, "stub (auto=true)");
  assert.equal(
    (await openBackend("webgpu", {}, fake({}))).backend.description,
    "stub (auto=false)",
  );
});

Deno.test("openBackend('auto') lists every backend's reason when none is available", async () => {
  await assert.rejects(openBackend("auto", {}, fake({ webgpu: "x", cpu: "y", wasm: "z" })), {
    message: 'Backend "auto" is unavailable: no backend can run here (webgpu: x; cpu: y; wasm: z)',
  });
});

Deno.test("openBackend() with a named unavailable backend does not fall through", async () => {
  await assert.rejects(openBackend("cpu", {}, fake({ cpu: "addon missing" })), {
    message: 'Backend "cpu" is unavailable: addon missing',
  });
});

Deno.test({
  name: "openBackend('auto') on this machine picks a working backend that multiplies matrices",
  ...loose,
  fn: async () => {
    const { backend, skipped } = await openBackend("auto", { threads: 2 });
    const session = await backend.createSession(matMulModel(2, 2, 2));
    const a = session.wrap({ dtype: "float32", dims: [2, 2], data: Float32Array.of(1, 2, 3, 4) });
    const out = await session.run({ a, b: a });
    const c = await session.download(out.c!);
    assert.deepEqual([...c.data as Float32Array], [7, 10, 15, 22]);
    assert.ok(backend.name !== "webgpu" || skipped.length === 0);
    await session.dispose();
  },
});

Deno.test({
  name: "openWasm() keeps one thread count per process and says so",
  ...loose,
  fn: async () => {
    const wasm = await openWasm({ threads: 2 });
    assert.equal(wasm.threads, 2);
    await assert.rejects(
      openWasm({ threads: 1 }),
      /Backend "wasm" is unavailable: the WASM module of this process already runs 2 threads, not 1/,
    );
  },
});

Deno.test("a session names its backend when the model is not ONNX", async () => {
  const cpu = await openCpu({ threads: 1 });
  await assert.rejects(
    cpu.createSession(new Uint8Array([1, 2, 3])),
    /^Error: Cannot load the model on backend "cpu": /,
  );
});

Deno.test("openBackend() tells what auto skipped and warns of a named webgpu on a software adapter", async () => {
  const auto = await openBackend("auto", {}, fake({ webgpu: "the only adapter is software" }));
  assert.equal(auto.notice, "auto: webgpu: the only adapter is software; using cpu");
  assert.equal((await openBackend("auto", {}, fake({}))).notice, null);
  assert.equal((await openBackend("cpu", {}, fake({}))).notice, null);
  const software: BackendOpeners = {
    ...fake({}),
    webgpu: () =>
      Promise.resolve({
        name: "webgpu",
        capabilities: {
          keepsOutputsOnDevice: true,
          readsHostInputsInPlace: false,
          softwareRenderer: true,
        },
        threads: 1,
        description: 'onnxruntime-web WebGPU EP on "llvmpipe" (software fallback)',
        createSession: () => Promise.reject(new Error("stub")),
      }),
  };
  const named = await openBackend("webgpu", {}, software);
  assert.match(named.notice ?? "", /^warning: .*"llvmpipe" \(software fallback\): .*slower/);
});
