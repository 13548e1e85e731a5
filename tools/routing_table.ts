/**
 * `deno run -A tools/routing_table.ts DIR` prints the README's routing-rules table from the
 * `moe eval BUNDLE --jsonl SET --label CLASS --json` reports saved in DIR as `BUNDLE-SET.json`:
 * one row per bundle and set, one cell per rule — mean regret (nats/token) / best-expert share /
 * label accuracy.
 *
 * @module
 */
import { basename, join } from "node:path";
import type { RoutingRulesReport } from "../pipeline/moe/mod.ts";

const dir = Deno.args[0];
if (dir === undefined) {
  console.error("usage: deno run -A tools/routing_table.ts DIR");
  Deno.exit(2);
}

const RULES = ["router", "likelihood", "combined", "oracle-label"];
const pct = (x: number) => `${(100 * x).toFixed(0)} %`;

const names = [...Deno.readDirSync(dir)].map((e) => e.name).filter((n) => n.endsWith(".json"))
  .sort();
const lines = [
  `| bundle | set (windows) | ${RULES.join(" | ")} |`,
  `| --- | --- | ${RULES.map(() => "---:").join(" | ")} |`,
];
for (const name of names) {
  const report = JSON.parse(await Deno.readTextFile(join(dir, name))) as {
    bundle: string;
    file: string;
    windows: number;
    routingRules: RoutingRulesReport;
  };
  const cells = RULES.map((rule) => {
    const r = report.routingRules.rules.find((x) => x.rule === rule);
    return r ? `${r.regret.toFixed(3)} / ${pct(r.bestShare)} / ${pct(r.accuracy)}` : "–";
  });
  lines.push(
    `| ${basename(report.bundle)} | ${
      basename(report.file).replace(/\.jsonl(\.gz)?$/, "")
    } (${report.windows}) | ${cells.join(" | ")} |`,
  );
}
console.log(lines.join("\n"));
