/**
 * Self-describing, tamper-proof recommendation ids. The `rec_id` of a list the user's
 * object served is a compact token, signed with HMAC-SHA256 under `REC_TOKEN_SECRET`
 * and bound to the user, that carries what attribution needs: when it was served, the
 * placement, the model version, the experiment and variant, the region and a fingerprint
 * of every served item. A later impression, click, add-to-cart or purchase is attributed
 * from the token even when the object forgot the list (evicted before the next ingest
 * committed it), and still never from what the client claims was shown: a client can
 * replay a token it was given, never make or alter one.
 *
 * Recommendations stay at zero rows written: nothing is stored per list; the list is
 * remembered in memory as before and the token is the fallback.
 *
 * Layout (base64url after `t_`): version (1 byte) · served_at ms (6) · nonce (4) ·
 * placement, model_version, experiment, variant, region (each a length byte, 0xff for
 * null, then ASCII) · item count (1) · 3-byte fingerprints · tag (16, truncated HMAC of
 * user_id, a zero byte and everything before it). A list of ten items in an experiment is about
 * 150 characters; the longest (50 items, every name at its limit) 630.
 */
import { fmix32, fnv1a32 } from '../../shared/hash';

const VERSION = 1;
const PREFIX = 't_';
const TAG_BYTES = 16;
const NULL_LENGTH = 0xff;
/** Tokens older than this are not honoured (the longest attribution window). */
export const REC_TOKEN_MAX_AGE_MS = 30 * 24 * 3_600_000;
/** Served times this far ahead of the object's clock are refused (clock skew between objects). */
const MAX_SKEW_MS = 5 * 60_000;
/** Most item fingerprints a token carries (ATTRIBUTION_LIMITS.itemsPerList). */
const MAX_ITEMS = 50;
/** Shortest secret accepted; a shorter one is a misconfiguration, and signing stays off. */
export const MIN_SECRET_LENGTH = 16;

/** What a token says about its list (beside the item fingerprints). */
export interface TokenList {
  placement: string;
  model_version: string | null;
  experiment: string | null;
  variant: string | null;
  region: string;
  /** Edge clock, epoch ms. */
  served_at: number;
}

/** A verified token: its list and the fingerprints of the items it held. */
export interface VerifiedToken {
  list: TokenList;
  fingerprints: number[];
}

/** The 24-bit fingerprint of an item id a token carries (collisions only let a click on a look-alike id count). */
export function itemFingerprint(itemId: string): number {
  return fmix32(fnv1a32(itemId)) & 0xff_ffff;
}

/** Whether `recId` has the shape of a token (cheap; says nothing about its validity). */
export const isRecToken = (recId: string): boolean => recId.startsWith(PREFIX);

/**
 * The short, unique key of a list in attribution ids: for a token its last 22 characters
 * (its tag, unique per list), for the random id of an unsigned list the id itself.
 */
export function listKey(recId: string): string {
  return isRecToken(recId) ? `r_${recId.slice(-Math.ceil((TAG_BYTES * 4) / 3))}` : recId;
}

/** Signs and verifies tokens with one key (imported once per object). */
export class RecTokens {
  private key: Promise<CryptoKey> | null;

  /** `secret` undefined or too short: {@link sign} returns null (lists get random ids, attributed from memory only). */
  constructor(secret: string | undefined) {
    this.key =
      secret !== undefined && secret.length >= MIN_SECRET_LENGTH
        ? crypto.subtle.importKey('raw', new TextEncoder().encode(secret), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign'])
        : null;
  }

  get enabled(): boolean {
    return this.key !== null;
  }

  /** The token of a list served to `userId`, or null when signing is off. */
  async sign(userId: string, list: TokenList, items: readonly string[]): Promise<string | null> {
    if (!this.key) return null;
    const body = encodeBody(list, items.slice(0, MAX_ITEMS));
    const tag = await this.tag(userId, body);
    return PREFIX + toBase64Url(concat(body, tag));
  }

  /**
   * The list a token describes, if it is one this key signed for `userId`, younger than
   * {@link REC_TOKEN_MAX_AGE_MS} at `now`; null for anything else (no error: a bad
   * rec_id earns nothing, like an unknown one).
   */
  async verify(userId: string, recId: string, now: number): Promise<VerifiedToken | null> {
    if (!this.key || !isRecToken(recId)) return null;
    const bytes = fromBase64Url(recId.slice(PREFIX.length));
    if (!bytes || bytes.length < 1 + 6 + 4 + 5 + 1 + TAG_BYTES) return null;
    const body = bytes.subarray(0, bytes.length - TAG_BYTES);
    const expected = await this.tag(userId, body);
    if (!crypto.subtle.timingSafeEqual(expected, bytes.subarray(bytes.length - TAG_BYTES))) return null;
    const decoded = decodeBody(body);
    if (!decoded) return null;
    if (decoded.list.served_at > now + MAX_SKEW_MS || now - decoded.list.served_at > REC_TOKEN_MAX_AGE_MS) return null;
    return decoded;
  }

  private async tag(userId: string, body: Uint8Array): Promise<Uint8Array> {
    const signed = concat(new TextEncoder().encode(userId), new Uint8Array([0]), body);
    const mac = await crypto.subtle.sign('HMAC', await this.key!, signed);
    return new Uint8Array(mac, 0, TAG_BYTES);
  }
}

// --- encoding ------------------------------------------------------------------

function encodeBody(list: TokenList, items: readonly string[]): Uint8Array {
  const parts: number[] = [VERSION];
  const at = Math.max(0, Math.floor(list.served_at));
  for (let shift = 40; shift >= 0; shift -= 8) parts.push(Math.floor(at / 2 ** shift) % 256);
  parts.push(...crypto.getRandomValues(new Uint8Array(4)));
  for (const text of [list.placement, list.model_version, list.experiment, list.variant, list.region]) {
    if (text === null) {
      parts.push(NULL_LENGTH);
      continue;
    }
    const bytes = new TextEncoder().encode(text.slice(0, 128));
    parts.push(bytes.length, ...bytes);
  }
  parts.push(items.length);
  for (const item of items) {
    const fp = itemFingerprint(item);
    parts.push(fp >>> 16, (fp >>> 8) & 0xff, fp & 0xff);
  }
  return new Uint8Array(parts);
}

function decodeBody(body: Uint8Array): VerifiedToken | null {
  if (body[0] !== VERSION) return null;
  let at = 0;
  for (let i = 1; i <= 6; i++) at = at * 256 + body[i]!;
  let offset = 11;
  const texts: Array<string | null> = [];
  for (let field = 0; field < 5; field++) {
    const length = body[offset++];
    if (length === undefined) return null;
    if (length === NULL_LENGTH) {
      texts.push(null);
      continue;
    }
    if (offset + length > body.length) return null;
    texts.push(new TextDecoder().decode(body.subarray(offset, offset + length)));
    offset += length;
  }
  const count = body[offset++];
  if (count === undefined || offset + count * 3 !== body.length) return null;
  const fingerprints: number[] = [];
  for (let i = 0; i < count; i++, offset += 3) fingerprints.push((body[offset]! << 16) | (body[offset + 1]! << 8) | body[offset + 2]!);
  const [placement, model_version, experiment, variant, region] = texts;
  if (placement == null || region == null) return null;
  return {
    list: {
      placement,
      model_version: model_version ?? null,
      experiment: experiment ?? null,
      variant: variant ?? null,
      region,
      served_at: at,
    },
    fingerprints,
  };
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((sum, p) => sum + p.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

function toBase64Url(bytes: Uint8Array): string {
  return btoa(String.fromCharCode(...bytes))
    .replaceAll('+', '-')
    .replaceAll('/', '_')
    .replace(/=+$/, '');
}

function fromBase64Url(text: string): Uint8Array | null {
  if (!/^[A-Za-z0-9_-]*$/.test(text)) return null;
  try {
    const binary = atob(text.replaceAll('-', '+').replaceAll('_', '/'));
    return Uint8Array.from(binary, (c) => c.charCodeAt(0));
  } catch {
    return null;
  }
}
