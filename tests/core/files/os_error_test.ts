import assert from "node:assert/strict";
import {
  describeOsErrors,
  nameOsErrors,
  osErrorReason,
  renamedInMessage,
} from "../../../core/files/mod.ts";

/** What Deno throws for `op`, to check the rewriting against the runtime's real wording. */
async function denoError(op: () => Promise<unknown>): Promise<Error> {
  const error = await op().then(() => null, (e: Error) => e);
  assert.ok(error instanceof Error, "the operation failed");
  return error;
}

Deno.test("describeOsErrors() rewrites Deno's OS errors as the action, the path and the reason", async () => {
  const root = await Deno.makeTempDir();
  const file = `${root}/afile`;
  await Deno.writeTextFile(file, "x");
  const cases: [() => Promise<unknown>, string][] = [
    [
      () => Deno.readTextFile(`${root}/nope.json`),
      `Cannot read "${root}/nope.json": no such file or directory`,
    ],
    [() => Deno.mkdir(file), `Cannot create the folder "${file}": file exists`],
    [
      () => Deno.writeTextFile(`${root}/no/x`, ""),
      `Cannot write "${root}/no/x": no such file or directory`,
    ],
    [
      () => Deno.rename(`${root}/a`, `${root}/b`),
      `Cannot rename "${root}/a" to "${root}/b": no such file or directory`,
    ],
    [() => Array.fromAsync(Deno.readDir(file)), `Cannot list "${file}": not a directory`],
    [
      () => Deno.writeFile("/dev/full", new Uint8Array(8)),
      'Cannot write "/dev/full": no space left on device',
    ],
  ];
  for (const [op, expected] of cases) {
    assert.equal(describeOsErrors((await denoError(op)).message), expected);
  }
});

Deno.test("describeOsErrors() keeps other text and lower-cases an OS error inside a sentence", () => {
  assert.equal(describeOsErrors("Cannot train: loss is NaN"), "Cannot train: loss is NaN");
  assert.equal(
    describeOsErrors(
      "Cannot load bundle \"b\": cannot be read (Permission denied (os error 13): open 'b/x')",
    ),
    'Cannot load bundle "b": cannot be read (cannot open "b/x": permission denied)',
  );
  assert.equal(
    describeOsErrors("No space left on device (os error 28)"),
    "No space left on device",
  );
});

Deno.test("nameOsErrors() names the file of a write through a handle and keeps the error's class", async () => {
  const full = await nameOsErrors("write", "runs/x/a.bin", async () => {
    using file = await Deno.open("/dev/full", { write: true });
    await file.write(new Uint8Array(16));
  }).then(() => null, (e: Error) => e);
  assert.equal(full?.message, 'Cannot write "runs/x/a.bin": no space left on device');
  assert.equal((full as { code?: string }).code, "ENOSPC");
  const missing = await nameOsErrors(
    "read",
    "data.bin",
    () => Deno.readFile("/nonexistent/data.bin"),
  )
    .then(() => null, (e: Error) => e);
  assert.ok(missing instanceof Deno.errors.NotFound);
  assert.equal(missing.message, 'Cannot read "data.bin": no such file or directory');
  assert.ok(missing.cause instanceof Deno.errors.NotFound);
  const other = new RangeError("not an OS error");
  await assert.rejects(nameOsErrors("write", "x", () => Promise.reject(other)), (e) => e === other);
});

Deno.test("osErrorReason() is null for errors that are not the OS's", async () => {
  assert.equal(
    osErrorReason(await denoError(() => Deno.stat("/nonexistent/x"))),
    "no such file or directory",
  );
  assert.equal(osErrorReason(new Error("Cannot read x: No such file (os error 2)")), null);
  assert.equal(osErrorReason("No such file or directory (os error 2)"), null);
});

Deno.test("renamedInMessage() names the final path instead of the temporary one", () => {
  const error = new Deno.errors.NotFound('Cannot write "r/.step-1.tmp-9/model.onnx": no such file');
  const renamed = renamedInMessage(error, "r/.step-1.tmp-9", "r/step-1");
  assert.ok(renamed instanceof Deno.errors.NotFound);
  assert.equal(renamed.message, 'Cannot write "r/step-1/model.onnx": no such file');
  const unrelated = new Error("other");
  assert.equal(renamedInMessage(unrelated, "r/.step-1.tmp-9", "r/step-1"), unrelated);
});
