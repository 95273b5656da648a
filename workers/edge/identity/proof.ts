/**
 * Identity verification (the scheme of Intercom's and Segment's "identity verification"):
 * the shop's backend, which knows who is logged in, computes
 * `user_hash = hex(HMAC-SHA256(IDENTITY_SECRET, user_id))` and renders it into the page;
 * the edge recomputes it and compares in constant time. Without the secret nobody can
 * produce the hash of another customer id, so guessing an id no longer reads or writes
 * that customer's state. Anonymous ids need no hash (ids.ts).
 *
 * While IDENTITY_SECRET is not set, verification is off and every id is taken as sent
 * (the behaviour before identity, and what a shop without logins needs).
 */
import { tokensEqual } from '../auth';
import { isAnonymousId } from './ids';

const encoder = new TextEncoder();

/** The HMAC key of this isolate's secret, imported once (secrets do not change within an isolate). */
let cachedKey: { secret: string; key: Promise<CryptoKey> } | undefined;

function hmacKey(secret: string): Promise<CryptoKey> {
  if (cachedKey?.secret !== secret) {
    cachedKey = {
      secret,
      key: crypto.subtle.importKey('raw', encoder.encode(secret), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']),
    };
  }
  return cachedKey.key;
}

/** The configured IDENTITY_SECRET, or null while verification is off. */
export function identitySecret(env: Pick<Env, 'IDENTITY_SECRET'>): string | null {
  return env.IDENTITY_SECRET ? env.IDENTITY_SECRET : null;
}

/** `user_hash` of `userId`: lowercase hex HMAC-SHA256(secret, userId), what the shop's backend computes. */
export async function userHashOf(secret: string, userId: string): Promise<string> {
  const mac = new Uint8Array(await crypto.subtle.sign('HMAC', await hmacKey(secret), encoder.encode(userId)));
  return Array.from(mac, (byte) => byte.toString(16).padStart(2, '0')).join('');
}

/** What a request proved about one user id. */
export type Proof = 'not_needed' | 'valid' | 'missing' | 'invalid';

/**
 * Checks the `user_hash` presented for `userId`. Whatever was presented (nothing, the
 * wrong length, garbage, another user's hash) is compared with the expected hash by the
 * constant-time helper of auth.ts, so the answer's timing tells nothing about how close
 * a guess was.
 */
export async function proveUser(env: Pick<Env, 'IDENTITY_SECRET'>, userId: string, presented: string | undefined): Promise<Proof> {
  const secret = identitySecret(env);
  if (secret === null || isAnonymousId(userId)) return 'not_needed';
  const valid = await tokensEqual(presented ?? '', await userHashOf(secret, userId));
  if (valid) return 'valid';
  return presented === undefined || presented === '' ? 'missing' : 'invalid';
}

/** The error of a failed proof, as answered to reads and recorded with rejected events. */
export function proofError(userId: string, proof: 'missing' | 'invalid'): { error: string; message: string } {
  return proof === 'missing'
    ? {
        error: 'user_hash_required',
        message: `user ${JSON.stringify(userId)} is a customer id: send its user_hash (HMAC-SHA256 of the id with IDENTITY_SECRET, computed by your backend; docs/identity.md)`,
      }
    : {
        error: 'user_hash_invalid',
        message: `the user_hash is not the one of user ${JSON.stringify(userId)} (HMAC-SHA256 of the id with IDENTITY_SECRET, lowercase hex; docs/identity.md)`,
      };
}
