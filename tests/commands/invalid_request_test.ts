/**
 * The command line's side of an {@linkcode InvalidRequest}: the setting the API names becomes the
 * flag the user typed, the message otherwise the same, and the exit code 2.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import {
  CLI_SPELLING,
  exitCodeOf,
  flagOf,
  UsageError,
  usageErrorOf,
} from "../../commands/_errors.ts";
import { Interrupted, InvalidRequest } from "../../core/job/mod.ts";
import { parseThreads } from "../../core/runtime/mod.ts";
import { parseSchedule } from "../../pipeline/distill/mod.ts";
import { moe } from "../_support/cli.ts";

/** What `fn` threw (it must throw). */
function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error("it did not throw");
}

Deno.test("flagOf() is the kebab-case of the option, except where the flag is named otherwise", () => {
  assert.equal(flagOf("threads"), "--threads");
  assert.equal(flagOf("seqLen"), "--seq-len");
  assert.equal(flagOf("evalsPerPhase"), "--evals-per-phase");
  assert.equal(flagOf("lossSchedule"), "--schedule");
});

Deno.test("usageErrorOf() re-spells options, placeholders and steps as the command line names them", () => {
  const missing = new InvalidRequest(
    (s) => `Missing ${s.option("router", "FILE")}: train one with: ${s.step("trainRouter")}`,
    { option: "router" },
  );
  assert.equal(missing.message, "Missing router: train one with: trainRouter()");
  const usage = usageErrorOf(missing);
  assert.ok(usage instanceof UsageError);
  assert.equal(
    usage.message,
    "Missing --router FILE: train one with: moe router train --data BALANCED_DIR --out router.json",
  );
  assert.equal(usage.cause, missing);
  assert.equal(CLI_SPELLING.step("noSuchStep"), "noSuchStep()");
  // A fixed message names no option and reads the same everywhere.
  assert.equal(usageErrorOf(new InvalidRequest("Cannot replace x")).message, "Cannot replace x");
});

Deno.test("usageErrorOf() gives the API's refusals the text the command line always printed", () => {
  const threads = thrown(() => parseThreads("0"));
  assert.ok(threads instanceof InvalidRequest);
  assert.equal(threads.option, "threads");
  assert.equal(
    usageErrorOf(threads).message,
    'Invalid --threads "0": expected an integer from 1 to 256',
  );
  const schedule = thrown(() => parseSchedule("both"));
  assert.ok(schedule instanceof InvalidRequest);
  assert.equal(schedule.option, "lossSchedule");
  assert.equal(
    usageErrorOf(schedule).message,
    'Invalid --schedule "both": expected "combined" or "alternating"',
  );
});

Deno.test("exitCodeOf() is 2 for a refused request and the signal's code for an interruption", () => {
  assert.equal(exitCodeOf(new InvalidRequest("x", { option: "threads" })), 2);
  assert.equal(exitCodeOf(new InvalidRequest("x")), 2);
  assert.equal(exitCodeOf(new UsageError("x")), 2);
  assert.equal(exitCodeOf(new Interrupted()), 130);
  assert.equal(exitCodeOf(new Interrupted("Stopped", "SIGTERM")), 143);
  assert.equal(exitCodeOf(new Error("x")), 1);
});

Deno.test("moe prints a refused request with its flag and exits 2", async () => {
  const tmp = await Deno.makeTempDir({ prefix: "moe-invalid-request-" });
  const missing = join(tmp, "missing");
  const cases: [string[], string][] = [
    [
      ["train", "--data", missing, "--out", join(tmp, "a"), "--threads", "0"],
      'moe: Invalid --threads "0": expected an integer from 1 to 256',
    ],
    [
      ["generate", missing, "hi", "--backend", "gpu"],
      'moe: Invalid --backend "gpu": expected one of auto, webgpu, cpu, wasm',
    ],
  ];
  for (const [args, line] of cases) {
    const r = await moe(args);
    assert.equal(r.code, 2, r.stderr);
    assert.equal(r.stderr.trimEnd(), line);
  }
  await Deno.remove(tmp, { recursive: true });
});
