import assert from "node:assert/strict";
import { GRAD_RULES } from "../../../core/autodiff/mod.ts";
import { checkGradients } from "../../_support/grad_check.ts";
import { GRAD_CASES } from "./_grad_cases.ts";

// Tolerances: float64 central differences (h = 1e-5) agree to ~1e-9; we allow 1e-6 relative.
// onnxruntime float32 against the float64 analytic gradient: 1e-3 relative (5e-3 through float16).
const FD_TOL = 1e-6;

for (const [i, c] of GRAD_CASES.entries()) {
  Deno.test(`${c.op} gradient matches finite differences: ${c.label}`, async () => {
    const r = await checkGradients(c.build, 1000 + i, c.domain);
    assert.ok(r.checked > 0, "nothing was checked");
    assert.ok(r.maxFdError < FD_TOL, `finite-difference error ${r.maxFdError}`);
    const ortTol = c.op === "Cast" ? 5e-3 : 1e-3;
    assert.ok(r.maxOrtError < ortTol, `onnxruntime float32 error ${r.maxOrtError}`);
  });
}

Deno.test("every registered gradient rule has a finite-difference check", () => {
  const checked = new Set(GRAD_CASES.map((c) => c.op));
  const missing = GRAD_RULES.map((r) => r.op).filter((op) => !checked.has(op));
  assert.deepEqual(missing, []);
});

Deno.test("the gradient registry has no duplicate rules", () => {
  const ops = GRAD_RULES.map((r) => r.op);
  assert.equal(new Set(ops).size, ops.length);
});
