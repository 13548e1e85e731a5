import assert from "node:assert/strict";
import { InvalidRequest } from "../../../core/job/mod.ts";
import { parseBackend, parseThreads, runtimeConfig } from "../../../core/runtime/mod.ts";

Deno.test("parseBackend() accepts auto and the three backends, any case", () => {
  assert.deepEqual(["auto", "WebGPU", "cpu", " wasm "].map(parseBackend), [
    "auto",
    "webgpu",
    "cpu",
    "wasm",
  ]);
});

Deno.test("parseBackend() rejects an unknown backend as an invalid request listing the choices", () => {
  assert.throws(() => parseBackend("cuda"), (e: unknown) => {
    assert.ok(e instanceof InvalidRequest);
    assert.equal(e.option, "backend");
    assert.equal(e.message, 'Invalid backend "cuda": expected one of auto, webgpu, cpu, wasm');
    return true;
  });
});

Deno.test("parseThreads() accepts integers from 1 to 256 only", () => {
  assert.equal(parseThreads("16"), 16);
  for (const bad of ["0", "-1", "1.5", "", "x", "257"]) {
    assert.throws(() => parseThreads(bad), {
      name: "InvalidRequest",
      option: "threads",
      message: `Invalid threads "${bad}": expected an integer from 1 to 256`,
    });
  }
});

Deno.test("runtimeConfig() layers flags over the base config", () => {
  const base = { backend: "cpu" as const, threads: 3 };
  assert.deepEqual(runtimeConfig({}, base), base);
  assert.deepEqual(runtimeConfig({ threads: "2" }, base), { backend: "cpu", threads: 2 });
  assert.deepEqual(runtimeConfig({ backend: "wasm", threads: 1 }, base), {
    backend: "wasm",
    threads: 1,
  });
  assert.equal(runtimeConfig({}).backend, "auto");
});
