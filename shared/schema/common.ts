/**
 * Building blocks every schema shares: the printable id (user, item and session ids as
 * the edge accepts them), the artifact version name, and the one formatter that turns
 * zod issues into the messages clients see.
 */
import { z } from 'zod';

/** Longest id the edge accepts (user, item, session, category…). */
export const ID_MAX = 128;

/** 1–128 printable ASCII characters without spaces, trimmed: ids that are safe as keys and in URLs. */
export const printableIdSchema = z
  .string()
  .trim()
  .min(1)
  .max(ID_MAX)
  .regex(/^[\x21-\x7e]+$/, 'must be printable ASCII without spaces');

/**
 * Longest `rec_id`: the signed, self-describing ids of personal lists
 * (durable-objects/user-state/rec-token.ts) carry the list's placement, model, variant
 * and item fingerprints, about 150 characters for ten items, at most 630.
 */
export const REC_ID_MAX = 768;

/** A recommendation list's id, as its response gave it: printable ASCII like every id, longer. */
export const recIdSchema = z
  .string()
  .trim()
  .min(1)
  .max(REC_ID_MAX)
  .regex(/^[\x21-\x7e]+$/, 'must be printable ASCII without spaces');

/** A placement name (`home`, `product`, `cart`, `email-weekly`…): where a list is shown, for rules and attribution. */
export const PLACEMENT_NAME_PATTERN = /^[a-z0-9][a-z0-9_-]{0,63}$/;

/** {@link PLACEMENT_NAME_PATTERN} as a schema, with the message clients see. */
export const placementNameSchema = z
  .string()
  .max(64)
  .regex(PLACEMENT_NAME_PATTERN, 'must be a placement name: 1-64 of a-z 0-9 _ - (starting with a letter or digit)');

/** A model or catalog version name: unique, sortable, safe as a path segment. */
export const VERSION_PATTERN = /^[A-Za-z0-9_.-]{1,64}$/;

/** {@link VERSION_PATTERN} as a schema, with the message clients see. */
export const versionSchema = z
  .string()
  .max(64) // the pattern's bound, stated so the contract documents it
  .regex(VERSION_PATTERN, 'must be a version name: 1-64 of A-Z a-z 0-9 _ . -');

/** Most issues reported for one input; the first ones tell the developer what to fix. */
const MAX_ISSUES = 20;

/**
 * `path: message` per issue (e.g. `items.0.item_id: Too small…`), the field path telling
 * the developer what to fix; issues about the whole input are named by `root` when given.
 */
export function formatIssues(issues: readonly z.core.$ZodIssue[], root?: string): string[] {
  return issues.slice(0, MAX_ISSUES).map((issue) => {
    const path = issue.path.map(String).join('.') || root;
    return path ? `${path}: ${issue.message}` : issue.message;
  });
}
