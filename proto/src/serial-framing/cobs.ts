/**
 * Consistent Overhead Byte Stuffing (Cheshire & Baker, 1999): removes every
 * 0x00 from a block at a cost of at most one byte per 254, so 0x00 can
 * delimit frames on a byte stream. A receiver that joins mid-stream, or
 * loses bytes, is back in step at the next 0x00.
 */
export function cobsEncode(src: Uint8Array): Uint8Array {
  const out = new Uint8Array(src.length + Math.ceil(src.length / 254) + 1);
  let codeAt = 0;
  let o = 1;
  let code = 1;
  for (let i = 0; i < src.length; i++) {
    const b = src[i]!;
    if (b === 0) {
      out[codeAt] = code;
      codeAt = o++;
      code = 1;
      continue;
    }
    out[o++] = b;
    code++;
    if (code === 0xff) {
      out[codeAt] = code;
      codeAt = o++;
      code = 1;
    }
  }
  out[codeAt] = code;
  return out.subarray(0, o);
}

/** Decodes one COBS block (without its delimiter); undefined when it is not valid COBS. */
export function cobsDecode(src: Uint8Array): Uint8Array | undefined {
  const out = new Uint8Array(src.length);
  let o = 0;
  let i = 0;
  while (i < src.length) {
    const code = src[i]!;
    if (code === 0) return undefined;
    const end = i + code;
    if (end > src.length) return undefined;
    for (let j = i + 1; j < end; j++) {
      const b = src[j]!;
      if (b === 0) return undefined;
      out[o++] = b;
    }
    i = end;
    // A code of 0xFF means "254 bytes, no zero follows"; the last block implies no zero either.
    if (code !== 0xff && i < src.length) out[o++] = 0;
  }
  return out.subarray(0, o);
}
