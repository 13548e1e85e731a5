/**
 * A minimal PNG decoder for tests: checks the signature and every chunk's CRC, inflates the image
 * data and undoes the scanline filters' framing, so a test knows the file opens as a picture.
 *
 * @module
 */
import { inflateSync } from "node:zlib";

/** The 8-byte PNG signature. */
export const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (const b of bytes) c = CRC_TABLE[(c ^ b) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/**
 * Decodes a PNG's header and image data.
 *
 * @returns Width, height, bit depth, color type and the raw (filtered) scanline bytes.
 * @throws {Error} On a bad signature, a bad CRC, or image data of the wrong size.
 */
export function decodePng(png: Uint8Array): { width: number; height: number; colorType: number } {
  if (!PNG_SIGNATURE.every((b, i) => png[i] === b)) throw new Error("not a PNG signature");
  const view = new DataView(png.buffer, png.byteOffset, png.byteLength);
  let offset = 8, width = 0, height = 0, depth = 0, colorType = 0;
  const idat: Uint8Array[] = [];
  while (offset < png.length) {
    const length = view.getUint32(offset);
    const typeAndData = png.subarray(offset + 4, offset + 8 + length);
    const type = new TextDecoder().decode(typeAndData.subarray(0, 4));
    if (crc32(typeAndData) !== view.getUint32(offset + 8 + length)) {
      throw new Error(`bad CRC in ${type}`);
    }
    const data = typeAndData.subarray(4);
    if (type === "IHDR") {
      const h = new DataView(data.buffer, data.byteOffset, data.byteLength);
      [width, height, depth, colorType] = [h.getUint32(0), h.getUint32(4), data[8]!, data[9]!];
    } else if (type === "IDAT") idat.push(data);
    else if (type === "IEND") break;
    offset += 12 + length;
  }
  const channels = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 }[colorType] ?? 0;
  const joined = new Uint8Array(idat.reduce((s, d) => s + d.length, 0));
  idat.reduce((at, d) => (joined.set(d, at), at + d.length), 0);
  const raw = inflateSync(joined);
  const expected = height * (1 + Math.ceil((width * channels * depth) / 8));
  if (raw.length !== expected) {
    throw new Error(`image data is ${raw.length} bytes, expected ${expected}`);
  }
  const stride = expected / Math.max(1, height);
  for (let y = 0; y < height; y++) {
    if (raw[y * stride]! > 4) throw new Error(`row ${y} has unknown filter ${raw[y * stride]}`);
  }
  return { width, height, colorType };
}
