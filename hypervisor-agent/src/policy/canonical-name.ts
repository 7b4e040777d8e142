/**
 * Names mean one thing (ARCHITECTURE.md "Security model"): the policy decides
 * on names libvirt and the policy file read the same way. A name whose bytes
 * another layer would read differently is refused before anything else looks
 * at it, with an INVALID_NAME alert: no honest client sends one (the API
 * refuses them too), so it cannot be benign.
 *
 * Two checks, at two depths:
 * - `nameProblem`: characters that C strings, terminals and logs read
 *   differently from the bytes sent: control characters (NUL cuts a C string:
 *   libvirt reads `db-1\0` as `db-1`), unpaired UTF-16 surrogates and U+FFFD
 *   (what a decoder leaves of bytes that were not UTF-8; encoding it again does
 *   not give the bytes back).
 * - `canonicalMismatch`: after libvirt resolved the name, what it calls the
 *   domain must equal the requested name exactly, so whatever else a binding or
 *   driver might normalise, the policy never decides on one name while libvirt
 *   acts on another.
 */

/** C0 and C1 control characters and DEL (matching them is the point). */
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/u;
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** Why `value` cannot be a name, or undefined when it can. `field` names it in the reason. */
export function nameProblem(field: string, value: string): string | undefined {
  const control = CONTROL.exec(value);
  if (control) {
    const code = control[0].codePointAt(0) ?? 0;
    return `${field} ${JSON.stringify(value)} contains the control character U+${code.toString(16).toUpperCase().padStart(4, '0')} at offset ${control.index}`;
  }
  if (LONE_SURROGATE.test(value)) return `${field} ${JSON.stringify(value)} is not well-formed Unicode (an unpaired surrogate)`;
  if (value.includes('\ufffd')) return `${field} ${JSON.stringify(value)} contains U+FFFD (bytes that were not valid UTF-8)`;
  return undefined;
}

/** Why libvirt's name for the domain differs from the one requested, or undefined when they are identical. */
export function canonicalMismatch(requested: string, canonical: string): string | undefined {
  if (requested === canonical) return undefined;
  return `domain ${JSON.stringify(requested)} resolves in libvirt to ${JSON.stringify(canonical)}, which is not the same name byte for byte`;
}
