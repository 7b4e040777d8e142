import fc from 'fast-check';
import nacl from 'tweetnacl';
import { describe, expect, it } from 'vitest';
import {
  Action,
  AlertKind,
  canonicalChallengeBytes,
  canonicalRequestBytes,
  type Challenge,
  type CommandRequest,
  decodePublicKey,
  decodeSecretKey,
  encodePublicKey,
  encodeSecretKey,
  fromHex,
  keyId,
  requestDigest,
  signAlert,
  signBytes,
  signChallenge,
  signingKeyPairFromSeed,
  signRequest,
  toHex,
  verifyAlert,
  verifyBytes,
  verifyChallengeSignature,
  verifyRequest,
  WireError,
} from '../src/index.js';

// RFC 8032 §7.1, TEST 1 and TEST 2.
const RFC8032 = [
  {
    secret: '9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60',
    public: 'd75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a',
    message: '',
    signature:
      'e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b',
  },
  {
    secret: '4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb',
    public: '3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c',
    message: '72',
    signature:
      '92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00',
  },
];

const alice = signingKeyPairFromSeed(fromHex('11'.repeat(32)));
const bob = signingKeyPairFromSeed(fromHex('22'.repeat(32)));

const request: CommandRequest = {
  requestId: 'req-1',
  hostId: 'hv-01',
  principal: 'alice',
  action: Action.ACTION_START,
  domain: 'db-1',
  parameters: { b: '2', a: '1' },
  issuedAtMs: 1_790_000_000_000,
};

describe('Ed25519 (node:crypto)', () => {
  for (const [i, v] of RFC8032.entries()) {
    it(`matches RFC 8032 test ${i + 1}`, () => {
      const pair = signingKeyPairFromSeed(fromHex(v.secret));
      expect(toHex(pair.publicKey)).toBe(v.public);
      const sig = signBytes(fromHex(v.message), pair);
      expect(toHex(sig.signature as Uint8Array)).toBe(v.signature);
      expect(sig.keyId).toBe(keyId(pair.publicKey));
      expect(verifyBytes(fromHex(v.message), sig, pair.publicKey)).toBe(true);
    });
  }

  it('makes the same keys and signatures as tweetnacl, and each verifies the other', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.uint8Array({ maxLength: 300 }), (seed, message) => {
        const ours = signingKeyPairFromSeed(seed);
        const theirs = nacl.sign.keyPair.fromSeed(seed);
        expect(toHex(ours.publicKey)).toBe(toHex(theirs.publicKey));
        expect(toHex(ours.secretKey)).toBe(toHex(theirs.secretKey));
        const sig = signBytes(message, ours).signature as Uint8Array;
        expect(toHex(sig)).toBe(toHex(nacl.sign.detached(message, theirs.secretKey)));
        expect(nacl.sign.detached.verify(message, sig, theirs.publicKey)).toBe(true);
        const flipped = Uint8Array.from(sig);
        flipped[0] = (flipped[0] as number) ^ 1;
        expect(verifyBytes(message, { signature: flipped }, ours.publicKey)).toBe(false);
      }),
      { numRuns: 50 },
    );
  });

  it('never throws on a public key that is not a curve point', () => {
    const sig = signBytes(new Uint8Array(3), alice);
    expect(verifyBytes(new Uint8Array(3), { signature: sig.signature }, new Uint8Array(32).fill(0xff))).toBe(false);
  });
});

describe('keys', () => {
  it('round-trips the text forms', () => {
    const text = encodePublicKey(alice.publicKey);
    expect(text).toMatch(/^ed25519:[A-Za-z0-9+/]{43}=$/);
    expect(decodePublicKey(text)).toEqual(alice.publicKey);
    const secretText = encodeSecretKey(alice);
    expect(decodeSecretKey(secretText).secretKey).toEqual(alice.secretKey);
  });

  it('makes 16-hex-digit key ids from SHA-256 of the public key', () => {
    expect(keyId(alice.publicKey)).toMatch(/^[0-9a-f]{16}$/);
    expect(keyId(alice.publicKey)).not.toBe(keyId(bob.publicKey));
  });

  it('rejects malformed keys with ERR_KEY_MALFORMED', () => {
    for (const bad of ['ed25519:!!!', 'rsa:AAAA', `ed25519:${Buffer.alloc(31).toString('base64')}`]) {
      expect(() => decodePublicKey(bad)).toThrow(WireError);
    }
    expect(() => decodeSecretKey('ed25519:AAAA')).toThrow(/must start with/);
  });
});

describe('canonical bytes and signatures', () => {
  it('does not depend on parameter order', () => {
    const reordered = { ...request, parameters: { a: '1', b: '2' } };
    expect(toHex(canonicalRequestBytes(reordered))).toBe(toHex(canonicalRequestBytes(request)));
  });

  it('pins the canonical request layout', () => {
    const bytes = canonicalRequestBytes(request);
    const label = Buffer.from('backchannel/v1 command-request\0');
    expect(Buffer.from(bytes.subarray(0, label.length)).equals(label)).toBe(true);
    // first field: u32be length 5, "req-1"
    expect(toHex(bytes.subarray(label.length, label.length + 9))).toBe('00000005' + Buffer.from('req-1').toString('hex'));
    expect(bytes.length).toBe(label.length + (4 + 5) + (4 + 5) + (4 + 5) + 8 + (4 + 4) + 8 + (4 + 1) * 4 + 8);
  });

  it('verifies a request signature and rejects any changed field', () => {
    const signed = { ...request, principalSignature: signRequest(request, alice) };
    expect(verifyRequest(signed, alice.publicKey)).toBe(true);
    expect(verifyRequest(signed, bob.publicKey)).toBe(false);
    for (const change of [
      { domain: 'db-2' },
      { action: Action.ACTION_DESTROY },
      { principal: 'mallory' },
      { parameters: { a: '1', b: '3' } },
      { issuedAtMs: 1 },
      { hostId: 'hv-02' },
      { requestId: 'req-2' },
    ]) {
      expect(verifyRequest({ ...signed, ...change }, alice.publicKey), JSON.stringify(change)).toBe(false);
    }
  });

  it('separates domains: a request signature never verifies as a challenge response', () => {
    const challenge: Challenge = {
      requestId: 'req-1',
      hostId: 'hv-01',
      nonce: new Uint8Array(32).fill(5),
      expiresAtMs: 1_790_000_060_000,
      requestDigest: requestDigest(request),
    };
    const sig = signChallenge(challenge, alice);
    expect(verifyChallengeSignature(challenge, sig, alice.publicKey)).toBe(true);
    // Same signature presented as a request signature, and vice versa.
    expect(verifyBytes(canonicalRequestBytes(request), sig, alice.publicKey)).toBe(false);
    const requestSig = signRequest(request, alice);
    expect(verifyChallengeSignature(challenge, requestSig, alice.publicKey)).toBe(false);
    // A different nonce invalidates it.
    expect(verifyChallengeSignature({ ...challenge, nonce: new Uint8Array(32).fill(6) }, sig, alice.publicKey)).toBe(false);
    expect(toHex(canonicalChallengeBytes(challenge))).not.toBe(toHex(canonicalRequestBytes(request)));
  });

  it('signs alerts with the host key', () => {
    const alert = {
      id: 'al-1',
      kind: AlertKind.ALERT_KIND_BAD_SIGNATURE,
      hostId: 'hv-01',
      principal: 'mallory',
      action: Action.ACTION_DESTROY,
      domain: 'db-1',
      reason: 'signature by unknown key',
      timeMs: 5,
      requestId: 'req-9',
    };
    const signed = { ...alert, hostSignature: signAlert(alert, bob) };
    expect(verifyAlert(signed, bob.publicKey)).toBe(true);
    expect(verifyAlert({ ...signed, reason: 'nothing happened' }, bob.publicKey)).toBe(false);
  });

  it('treats malformed signatures as invalid without throwing', () => {
    expect(verifyBytes(new Uint8Array(1), { keyId: 'x', signature: new Uint8Array(10) }, alice.publicKey)).toBe(false);
    expect(verifyBytes(new Uint8Array(1), null, alice.publicKey)).toBe(false);
    const good = signBytes(new Uint8Array(1), alice);
    expect(verifyBytes(new Uint8Array(1), { ...good, keyId: keyId(bob.publicKey) }, alice.publicKey)).toBe(false);
  });
});
