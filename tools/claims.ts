/**
 * `deno task claims` writes the README's table of the paper's claims next to our numbers from
 * `docs/results/<study>/report.json` (between the claims markers); `deno task claims --check` only
 * checks that the README holds that table, and exits 1 otherwise.
 *
 * @module
 */
import { fileURLToPath } from "node:url";
import { join } from "node:path";
import {
  claimsBlock,
  claimsTable,
  readStudyReports,
  sameTable,
  withClaimsTable,
} from "../studies/claims_table.ts";

const root = fileURLToPath(new URL("..", import.meta.url));
const readmePath = join(root, "README.md");
const table = claimsTable(await readStudyReports(join(root, "docs", "results")));
const readme = await Deno.readTextFile(readmePath);
if (Deno.args.includes("--check")) {
  const block = claimsBlock(readme);
  if (block === null || !sameTable(block, table)) {
    console.error(
      `claims: README.md's claims table is not the one docs/results/*/report.json give; run \`deno task claims\``,
    );
    Deno.exit(1);
  }
  console.log("claims: README.md's table matches the reports");
} else {
  const updated = withClaimsTable(readme, table);
  if (updated !== readme) await Deno.writeTextFile(readmePath, updated);
  console.log(`claims: ${updated === readme ? "unchanged" : "written"} in README.md`);
}
