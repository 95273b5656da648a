/**
 * Kafka connection settings read from the Worker's vars and secrets (or a Node
 * process's env). One parser for the forwarder, the redrive route and the scripts,
 * so "what does KAFKA_SSL=1 mean" has a single answer.
 */

/** The env keys the Kafka path reads; `Env` and `process.env` both satisfy it. */
export interface KafkaEnv {
  /** Comma-separated host:port list; empty = Kafka disabled (the forwarder then retries, never acks). */
  KAFKA_BROKERS?: string;
  KAFKA_CLIENT_ID?: string;
  /** "true" for TLS (any managed cluster); "false" for the local PLAINTEXT broker. */
  KAFKA_SSL?: string;
  /** "", "plain", "scram-sha-256" or "scram-sha-512". */
  KAFKA_SASL_MECHANISM?: string;
  /** Secrets (`wrangler secret put`), only with a SASL mechanism. */
  KAFKA_SASL_USERNAME?: string;
  KAFKA_SASL_PASSWORD?: string;
}

/** SASL mechanisms kafkajs supports without extra code (OAUTHBEARER and IAM need a provider). */
export const SASL_MECHANISMS = ['plain', 'scram-sha-256', 'scram-sha-512'] as const;
export type SaslMechanism = (typeof SASL_MECHANISMS)[number];

/** Parsed, validated connection settings. */
export interface KafkaSettings {
  brokers: string[];
  clientId: string;
  ssl: boolean;
  sasl: { mechanism: SaslMechanism; username: string; password: string } | null;
}

const TRUE = new Set(['true', '1', 'yes', 'on']);

/** Thrown for settings that can never work (a typo, a missing secret): retrying cannot fix them. */
export class KafkaConfigError extends Error {
  override name = 'KafkaConfigError';
}

/**
 * Parses the Kafka settings. Returns null when KAFKA_BROKERS is empty (Kafka disabled);
 * throws {@link KafkaConfigError} for an invalid combination.
 */
export function kafkaSettings(env: KafkaEnv): KafkaSettings | null {
  const brokers = (env.KAFKA_BROKERS ?? '')
    .split(',')
    .map((broker) => broker.trim())
    .filter((broker) => broker.length > 0);
  if (brokers.length === 0) return null;
  for (const broker of brokers) {
    if (!/^[^\s:]+:\d{1,5}$/.test(broker)) throw new KafkaConfigError(`KAFKA_BROKERS entry "${broker}" is not host:port`);
  }
  const mechanism = (env.KAFKA_SASL_MECHANISM ?? '').trim().toLowerCase();
  let sasl: KafkaSettings['sasl'] = null;
  if (mechanism !== '') {
    if (!(SASL_MECHANISMS as readonly string[]).includes(mechanism)) {
      throw new KafkaConfigError(`KAFKA_SASL_MECHANISM "${mechanism}" is not one of ${SASL_MECHANISMS.join(', ')}`);
    }
    const username = env.KAFKA_SASL_USERNAME ?? '';
    const password = env.KAFKA_SASL_PASSWORD ?? '';
    if (username === '' || password === '') {
      throw new KafkaConfigError(
        `KAFKA_SASL_MECHANISM is ${mechanism} but the KAFKA_SASL_USERNAME / KAFKA_SASL_PASSWORD secrets are not set`,
      );
    }
    sasl = { mechanism: mechanism as SaslMechanism, username, password };
  }
  return {
    brokers,
    clientId: (env.KAFKA_CLIENT_ID ?? '').trim() || 'edge-personalization',
    ssl: TRUE.has((env.KAFKA_SSL ?? '').trim().toLowerCase()),
    sasl,
  };
}
