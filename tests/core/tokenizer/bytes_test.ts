import assert from "node:assert/strict";
import {
  BYTE_TO_CHAR,
  bytesToTokenString,
  tokenStringToBytes,
  validUtf8Prefix,
} from "../../../core/tokenizer/mod.ts";

Deno.test("BYTE_TO_CHAR maps the 256 bytes to distinct non-space characters and back", () => {
  assert.equal(new Set(BYTE_TO_CHAR).size, 256);
  for (const ch of BYTE_TO_CHAR) assert.equal(/\s/u.test(ch), false);
  const all = Uint8Array.from({ length: 256 }, (_, b) => b);
  assert.deepEqual(tokenStringToBytes(bytesToTokenString(all)), all);
});

Deno.test("validUtf8Prefix() agrees with a strict TextDecoder on random byte strings", () => {
  let seed = 7;
  const next = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32;
  const strict = new TextDecoder("utf-8", { fatal: true });
  const interesting = [
    0x7f,
    0x80,
    0xbf,
    0xc1,
    0xc2,
    0xdf,
    0xe0,
    0xa0,
    0xed,
    0x9f,
    0xef,
    0xf0,
    0x90,
    0xf4,
    0x8f,
    0xf5,
  ];
  for (let n = 0; n < 20_000; n++) {
    const bytes = Uint8Array.from(
      { length: Math.floor(next() * 8) },
      () =>
        next() < 0.7
          ? interesting[Math.floor(next() * interesting.length)]!
          : Math.floor(next() * 256),
    );
    const valid = validUtf8Prefix(bytes, 0);
    assert.doesNotThrow(() => strict.decode(bytes.subarray(0, valid)));
    if (valid < bytes.length) {
      // The prefix is maximal: no longer prefix decodes, except one that ends mid-sequence.
      for (let end = valid + 1; end <= bytes.length; end++) {
        let ok = true;
        try {
          strict.decode(bytes.subarray(0, end));
        } catch {
          ok = false;
        }
        assert.equal(ok, false, `bytes ${bytes} valid to ${valid} but decodes to ${end}`);
      }
    }
  }
});
