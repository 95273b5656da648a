/**
 * Type test, never bundled: the event fields of the public types (beacon.d.ts, which
 * shops copy into their projects and which cannot import this repository) equal the
 * edge's event schema. Adding an event type or a field to shared/schema/events.ts
 * without adding it to beacon.d.ts, or the reverse, fails `npm run typecheck` here.
 */
import type { ClientEventInput, EventType } from '../../../../shared/schema/events';

/** What beacon.js fills in itself, and the discriminator. */
type Filled = 'type' | 'event_id' | 'user_id' | 'session_id' | 'ts' | 'schema_version' | 'context';
/** The fields of one event type, as the schema accepts them from a producer. */
type SchemaFields<T extends EventType> = Omit<Extract<ClientEventInput, { type: T }>, Filled>;
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
/** Same field names (optional ones included) and mutually assignable field types. */
type SameFields<A, B> = Same<keyof A, keyof B> extends true ? Same<A, B> : false;

/** Every event type of the schema is in the public types, and no other. */
export const sameEventTypes: Same<Epr.EventType, EventType> = true;

/**
 * Per event type: the public fields are exactly the schema's. A mapped type, not a row
 * per type, so a new event type needs no edit here (only its declaration in beacon.d.ts).
 */
type FieldsMatch = { [T in EventType]: SameFields<Epr.EventFields[T], SchemaFields<T>> }[EventType];
export const sameFields: Same<FieldsMatch, true> = true;
