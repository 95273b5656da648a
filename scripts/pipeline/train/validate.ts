/**
 * Validation after each training step, so a scheduled job fails loudly instead of
 * publishing a model built from nothing or from garbage: the input (rows read, share of
 * invalid records, null ids, one user or one item dominating), the sessions, and the
 * model (not empty, within the artifact's size limits). A failed check throws
 * {@link ValidationError}; the CLIs exit non-zero and the retrain loop keeps the live
 * model. The quality gate (evaluate/gate.ts) is the last check, on held-out data.
 */

/** Limits of the checks; defaults suit a shop's 30-day window. */
export interface ValidationLimits {
  /** Most invalid records (rejected or unreadable) as a share of all records read. */
  maxInvalidShare: number;
  /** Most step events one user may account for (a crawler or a replay loop). */
  maxUserShare: number;
  /** Fewest items with neighbours a model must have. */
  minItems: number;
}

export const DEFAULT_LIMITS: ValidationLimits = { maxInvalidShare: 0.2, maxUserShare: 0.25, minItems: 1 };

/** One check's outcome. */
export interface Check {
  name: string;
  value: number;
  limit: string;
  ok: boolean;
}

/** Thrown when a check fails: the message names every failed check. */
export class ValidationError extends Error {
  override name = 'ValidationError';

  constructor(readonly checks: Check[]) {
    super(
      `training refused (the live model is kept): ${checks
        .filter((c) => !c.ok)
        .map((c) => `${c.name} = ${c.value} (limit ${c.limit})`)
        .join('; ')}`,
    );
  }
}

/** What the input step saw. */
export interface InputFacts {
  /** Valid event rows in the window. */
  events: number;
  /** Invalid records (lake `invalid/`, unreadable NDJSON lines) in the same window. */
  invalid: number;
  /** Events lacking an id they must have (event, user, or item for item events). */
  nullIds: number;
  /** Session steps, and the most steps of one user. */
  steps: number;
  topUserSteps: number;
  sessions: number;
}

/** Checks of the input step; throws ValidationError when one fails, else returns them. */
export function checkInput(facts: InputFacts, limits: ValidationLimits = DEFAULT_LIMITS): Check[] {
  const records = facts.events + facts.invalid;
  const checks: Check[] = [
    { name: 'valid events', value: facts.events, limit: '> 0', ok: facts.events > 0 },
    {
      name: 'invalid share',
      value: records === 0 ? 0 : round(facts.invalid / records),
      limit: `<= ${limits.maxInvalidShare}`,
      ok: records === 0 || facts.invalid / records <= limits.maxInvalidShare,
    },
    { name: 'events with null ids', value: facts.nullIds, limit: '= 0', ok: facts.nullIds === 0 },
    { name: 'sessions', value: facts.sessions, limit: '> 0', ok: facts.sessions > 0 },
    {
      name: 'largest user share of steps',
      value: facts.steps === 0 ? 0 : round(facts.topUserSteps / facts.steps),
      limit: `<= ${limits.maxUserShare}`,
      // Tiny inputs (tests, a new shop) are all one user's by nature: only judge from 1000 steps.
      ok: facts.steps < 1000 || facts.topUserSteps / facts.steps <= limits.maxUserShare,
    },
  ];
  if (checks.some((c) => !c.ok)) throw new ValidationError(checks);
  return checks;
}

/** Checks of the model step. */
export function checkModel(model: { items: number; bytes?: number }, limits: ValidationLimits = DEFAULT_LIMITS): Check[] {
  const checks: Check[] = [
    { name: 'items with neighbours', value: model.items, limit: `>= ${limits.minItems}`, ok: model.items >= limits.minItems },
  ];
  if (checks.some((c) => !c.ok)) throw new ValidationError(checks);
  return checks;
}

function round(x: number): number {
  return Number(x.toFixed(4));
}
