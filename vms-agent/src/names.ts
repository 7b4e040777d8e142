/**
 * The names the manager accepts, so that each means one thing all the way
 * down (issue 13, finding 1: `db-1%00` reached the hypervisor-agent as
 * `db-1\0`, the policy matched its globs against those bytes while libvirt,
 * a C library, read `db-1`). A name that is refused here never reaches the
 * store, a BMC record or a policy check.
 *
 * Domain names follow libvirt's own limits, tightened to what survives
 * every layer byte for byte and reads the same to a person:
 *   - 1 to 251 bytes of UTF-8 (a persistent domain's config is NAME.xml,
 *     and a file name has at most 255 bytes);
 *   - well-formed Unicode in NFC (libvirt compares bytes; two spellings of
 *     "é" would be two names that look alike);
 *   - no control characters (C0 U+0000–U+001F including TAB/LF/CR and NUL,
 *     DEL, C1 U+0080–U+009F): libvirt refuses LF in names, XML 1.0 cannot
 *     carry the other C0 characters, and NUL ends a C string;
 *   - no invisible or look-alike characters: format characters (Cf, e.g.
 *     zero-width space, bidi overrides, BOM), line and paragraph separators,
 *     private-use characters, noncharacters, and spaces other than U+0020;
 *   - no "/" (libvirt refuses it: names are file names);
 *   - no space at either end (an XML editor or a shell trims it).
 *
 * Host ids and principal names are the manager's own identifiers: ASCII
 * only, so there is nothing to normalise.
 *   - host id: 1–64 of A–Z a–z 0–9 . _ -, starting with a letter or digit;
 *   - principal: 1–64 of A–Z a–z 0–9 . _ @ - (what `principals add` has
 *     always accepted).
 */

export const DOMAIN_NAME_MAX_BYTES = 251;
export const HOST_ID_PATTERN = '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$';
export const PRINCIPAL_NAME_PATTERN = '^[A-Za-z0-9_.@-]{1,64}$';

const HOST_ID = new RegExp(HOST_ID_PATTERN);
const PRINCIPAL_NAME = new RegExp(PRINCIPAL_NAME_PATTERN);
// Cc: controls (C0, DEL, C1). Cf: format. Cs: a lone surrogate (a pair is one code point). Co: private use.
// Zl/Zp: line/paragraph separators. Zs minus U+0020: no-break and other spaces.
const FORBIDDEN = /[\p{Cc}\p{Cf}\p{Cs}\p{Co}\p{Zl}\p{Zp}\u{00A0}\u{1680}\u{2000}-\u{200A}\u{202F}\u{205F}\u{3000}]/u;

/** Unicode noncharacters: U+FDD0–U+FDEF and the last two code points of every plane. */
function firstNoncharacter(s: string): { ch: string; index: number } | undefined {
  let index = 0;
  for (const ch of s) {
    const cp = ch.codePointAt(0) ?? 0;
    if ((cp >= 0xfdd0 && cp <= 0xfdef) || (cp & 0xfffe) === 0xfffe) return { ch, index };
    index += ch.length;
  }
  return undefined;
}

/** "U+0000" for a character. */
function codePoint(ch: string): string {
  return `U+${(ch.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0')}`;
}

/** Why `name` is not an acceptable libvirt domain name, or undefined when it is. */
export function domainNameProblem(name: string): string | undefined {
  if (name.length === 0) return 'is empty';
  const m = FORBIDDEN.exec(name);
  const bad = m ? { ch: m[0], index: m.index } : firstNoncharacter(name);
  if (bad) return `contains ${codePoint(bad.ch)} at position ${bad.index} (control, format, invisible, private-use or non- characters are refused)`;
  if (name.includes('/')) return 'contains "/" (libvirt refuses it in domain names)';
  if (name.startsWith(' ') || name.endsWith(' ')) return 'begins or ends with a space';
  if (name.normalize('NFC') !== name) return 'is not in Unicode NFC (it would name a different domain than the one it looks like)';
  const bytes = Buffer.byteLength(name, 'utf8');
  if (bytes > DOMAIN_NAME_MAX_BYTES) return `is ${bytes} bytes of UTF-8; at most ${DOMAIN_NAME_MAX_BYTES}`;
  return undefined;
}

/** Why `id` is not an acceptable host id, or undefined when it is. */
export function hostIdProblem(id: string): string | undefined {
  return HOST_ID.test(id) ? undefined : 'must be 1-64 of A-Z a-z 0-9 . _ -, starting with a letter or digit';
}

/** Why `name` is not an acceptable principal name, or undefined when it is. */
export function principalNameProblem(name: string): string | undefined {
  return PRINCIPAL_NAME.test(name) ? undefined : 'must be 1-64 of A-Z a-z 0-9 _ . @ -';
}

export type NameKind = 'domain' | 'host' | 'principal';

export const NAME_PROBLEM: Record<NameKind, (value: string) => string | undefined> = {
  domain: domainNameProblem,
  host: hostIdProblem,
  principal: principalNameProblem,
};
