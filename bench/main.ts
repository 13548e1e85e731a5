/**
 * `deno task bench <name> [--json] [args…]`: runs `bench/<name>.ts` and prints its results as a
 * table, or as `{"results": [...]}` with `--json`.
 *
 * @module
 */
import { type Benchmark, formatTable } from "./_result.ts";

const [name, ...rest] = Deno.args;
const available = [...Deno.readDirSync(new URL(".", import.meta.url))]
  .map((e) => e.name)
  .filter((n) => n.endsWith(".ts") && !n.startsWith("_") && n !== "main.ts")
  .map((n) => n.slice(0, -3))
  .sort();
if (!name || !available.includes(name)) {
  console.error(`usage: deno task bench <${available.join("|")}> [--json] [options]`);
  Deno.exit(2);
}
const json = rest.includes("--json");
const bench = (await import(`./${name}.ts`)) as Benchmark;
const results = await bench.run(rest.filter((a) => a !== "--json"));
console.log(json ? JSON.stringify({ results }, null, 2) : formatTable(results));
