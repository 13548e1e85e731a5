import assert from "node:assert/strict";
import { Graph, type Tensor } from "../../../core/graph/mod.ts";
import { distillObjective, type KDDirection } from "../../../core/losses/mod.ts";
import {
  distillReference,
  type TeacherReference,
  topKReference,
} from "../../_support/loss_reference.ts";
import { checkGradients } from "../../_support/grad_check.ts";
import { type Feed, randomMatrix, relErr, runOrt, runReference } from "./_run.ts";

const N = 5, V = 10, K = 4, TAU = 2;
const S = randomMatrix(70, N, V), T = randomMatrix(71, N, V);
const Y = [2, -1, 9, 0, 4];
const CACHE = topKReference(T, K, TAU);

/** The objective's graph for a teacher kind, with α as an input. */
function build(kind: "logits" | "topk", kd: KDDirection) {
  const g = new Graph("distill");
  const s = g.input("s", "float32", [N, V]), y = g.input("y", "int64", [N]);
  const alpha = g.input("alpha", "float32", []);
  const teacher = kind === "logits"
    ? { kind, logits: g.input("t", "float32", [N, V]) }
    : { kind, ids: g.input("ids", "int64", [N, K]), logProbs: g.input("lp", "float32", [N, K]) };
  const { loss, ce, kd: kdLoss } = distillObjective(s, y, teacher, {
    kd,
    temperature: TAU,
    alpha,
  });
  return { g, outs: [loss, ce, kdLoss] as Tensor[] };
}

function feeds(kind: "logits" | "topk", alpha: number): Record<string, Feed> {
  const common: Record<string, Feed> = {
    s: { dtype: "float32", value: S },
    y: { dtype: "int64", value: Y },
    alpha: { dtype: "float32", value: alpha },
  };
  return kind === "logits" ? { ...common, t: { dtype: "float32", value: T } } : {
    ...common,
    ids: { dtype: "int64", value: CACHE.ids },
    lp: { dtype: "float32", value: CACHE.logProbs },
  };
}

function teacherRef(kind: "logits" | "topk"): TeacherReference {
  return kind === "logits"
    ? { kind, logits: T }
    : { kind, ids: CACHE.ids, logProbs: CACHE.logProbs };
}

for (const kind of ["logits", "topk"] as const) {
  for (const kd of ["forward", "reverse"] as const) {
    Deno.test(`distillObjective() from ${kind} with ${kd} KL matches its float64 reference for any fed α`, async () => {
      const { g, outs } = build(kind, kd);
      for (const alpha of [0, 0.3, 1]) {
        const want = distillReference(S, Y, teacherRef(kind), { kd, temperature: TAU, alpha });
        assert.ok(want.ce > 0.1 && want.kd > 0.01, JSON.stringify(want));
        assert.ok(relErr(want.loss, alpha * want.ce + (1 - alpha) * want.kd) < 1e-15);
        const got64 = runReference(g, feeds(kind, alpha), outs);
        const got32 = await runOrt(g, feeds(kind, alpha), outs);
        [want.loss, want.ce, want.kd].forEach((w, i) => {
          assert.ok(relErr(got64[i]!, w) < 1e-12, `α ${alpha} output ${i}: ${got64[i]} vs ${w}`);
          assert.ok(relErr(got32[i]!, w) < 1e-5, `α ${alpha} output ${i}: ${got32[i]} vs ${w}`);
        });
      }
    });
  }
}

Deno.test("distillObjective() gradient w.r.t. the student matches finite differences", async () => {
  for (const kind of ["logits", "topk"] as const) {
    const r = await checkGradients((g) => {
      const s = g.input("s", "float32", [N, V]);
      const y = g.constant(BigInt64Array.from(Y, BigInt), [N], "int64");
      const teacher = kind === "logits"
        ? { kind, logits: g.constant(Float32Array.from(T.flat()), [N, V]) }
        : {
          kind,
          ids: g.constant(BigInt64Array.from(CACHE.ids.flat(), BigInt), [N, K], "int64"),
          logProbs: g.constant(Float32Array.from(CACHE.logProbs.flat()), [N, K]),
        };
      const alpha = g.constant(Float32Array.of(0.25), []);
      const { loss } = distillObjective(s, y, teacher, { kd: "reverse", temperature: TAU, alpha });
      return { wrt: [s], ys: [loss] };
    }, 31);
    assert.ok(r.maxFdError < 1e-6 && r.maxOrtError < 1e-4, `${kind}: ${JSON.stringify(r)}`);
  }
});

Deno.test("distillObjective() refuses an α that is not a float32 scalar", () => {
  const g = new Graph("bad");
  const s = g.input("s", "float32", [2, 3]), y = g.input("y", "int64", [2]);
  const teacher = { kind: "logits" as const, logits: g.input("t", "float32", [2, 3]) };
  assert.throws(
    () =>
      distillObjective(s, y, teacher, {
        kd: "forward",
        temperature: 1,
        alpha: g.input("a", "float32", [1]),
      }),
    /alpha must be a float32 scalar, not float32 \[1\]/,
  );
});
