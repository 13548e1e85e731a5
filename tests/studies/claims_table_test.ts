import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { join } from "node:path";
import {
  CLAIMS_BEGIN,
  CLAIMS_END,
  claimsBlock,
  claimsTable,
  readStudyReports,
  sameTable,
  splitRow,
  type StudyReports,
  withClaimsTable,
} from "../../studies/claims_table.ts";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));

const interval = (mean: number, lo: number, hi: number, n = 3) => ({
  mean,
  std: 0.01,
  n,
  level: 0.95,
  df: n - 1,
  lo,
  hi,
});

/** Reports as the studies write them (only the parts the table reads). */
const REPORTS: StudyReports = {
  alpha: {
    seeds: [1, 2, 3],
    results: {
      bestFixed: "alpha-0.5",
      rules: [
        { name: "alpha-0.5", label: "α = 0.5", finalValCE: { mean: 5.852, std: 0.049, n: 3 } },
        {
          name: "alpha-adaptive",
          label: "adaptive",
          finalValCE: { mean: 5.842, std: 0.015, n: 3 },
        },
      ],
      claims: {
        adaptiveVsBestFixed: { diff: interval(-0.01, -0.094, 0.074), verdict: "inconclusive" },
      },
    },
  },
  "loss-schedule": {
    seeds: [1, 2, 3],
    results: {
      schedules: [
        { name: "combined", finalValCE: { mean: 5.872, std: 0.011, n: 3 } },
        { name: "alternating", finalValCE: { mean: 5.984, std: 0.011, n: 3 } },
      ],
      claims: {
        combinedVsAlternating: { diff: interval(-0.112, -0.15, -0.07), verdict: "agree" },
      },
    },
  },
};

Deno.test("claimsTable() takes every number and verdict from the reports", () => {
  const rows = claimsTable(REPORTS).trim().split("\n").map(splitRow);
  assert.deepEqual(rows[0], ["paper's claim", "our measurement (see docs/results/)", "verdict"]);
  const alpha = rows.find((r) => r[0] === "Adaptive α is marginally better than fixed α")!;
  assert.equal(
    alpha[1],
    "final val CE: adaptive 5.842 ± 0.015, best fixed (α = 0.5) 5.852 ± 0.049; adaptive − best fixed −0.010 [−0.094, +0.074] (3 seeds)",
  );
  assert.equal(alpha[2], "inconclusive");
  const combined = rows.find((r) => r[0] === "The combined loss beats alternating CE / KD")!;
  assert.match(combined[1]!, /combined − alternating −0\.112 \[−0\.150, −0\.070\] \(3 seeds\)/);
  assert.equal(combined[2], "agree");
  // A claim whose report has no comparison yet says so instead of guessing.
  const stable = rows.find((r) => r[0] === "The combined loss gives more stable learning")!;
  assert.equal(stable[2], "not measured");
  // Studies without a report leave their rows out.
  assert.ok(!rows.some((r) => r[0]!.startsWith("Sequential")));
});

Deno.test("the claims table is padded like deno fmt pads it, and compares whatever its padding", () => {
  const table = claimsTable(REPORTS);
  const lines = table.trimEnd().split("\n");
  assert.ok(lines.every((l) => [...l].length === [...lines[0]!].length), "columns aligned");
  assert.ok(sameTable(table, lines.map((l) => l.replace(/ +/g, " ")).join("\n")));
  assert.ok(!sameTable(table, table.replace("inconclusive", "agree       ")));
});

Deno.test("withClaimsTable() replaces only what lies between the markers", () => {
  const readme =
    `# moe\n\nbefore\n\n${CLAIMS_BEGIN}\n\n| old |\n| --- |\n\n${CLAIMS_END}\n\nafter\n`;
  const updated = withClaimsTable(readme, "| new |\n| --- |\n");
  assert.equal(
    updated,
    `# moe\n\nbefore\n\n${CLAIMS_BEGIN}\n\n| new |\n| --- |\n\n${CLAIMS_END}\n\nafter\n`,
  );
  assert.equal(claimsBlock(updated), "| new |\n| --- |\n");
  assert.equal(withClaimsTable(updated, "| new |\n| --- |\n"), updated, "idempotent");
  assert.throws(() => withClaimsTable("# moe\n", "| x |"), /README lacks the markers/);
});

Deno.test("README.md's claims table is the one docs/results/*/report.json give (run `deno task claims`)", async () => {
  const readme = await Deno.readTextFile(join(ROOT, "README.md"));
  const block = claimsBlock(readme);
  assert.ok(block !== null, "README.md has the claims markers");
  const table = claimsTable(await readStudyReports(join(ROOT, "docs", "results")));
  assert.ok(
    sameTable(block, table),
    `README.md's claims table differs from the reports; run \`deno task claims\`.\nExpected:\n${table}`,
  );
});
