/**
 * The region registry: `regions.json`, one entry per deployable region (its name, wrangler
 * environment, edge base URL, the names of its secrets, its Kafka cluster, its
 * jurisdiction). It is what the central side treats as the fleet: model publishing,
 * catalog replication, `npm run model -- status`, `npm run deploy -- --all` and the local
 * fleet of `REGIONS=eu,us npm start` all read it. wrangler.toml stays the source of the
 * Workers' bindings; {@link registryProblems} checks that the two agree (in `npm test`),
 * reading wrangler.toml with a TOML parser, never with patterns.
 */
import { readFileSync } from 'node:fs';
import { parse as parseToml } from 'smol-toml';
import { z } from 'zod';
import { JURISDICTIONS } from '../../shared/residency';

const NAME = /^[a-z][a-z0-9-]{0,31}$/;
const SECRET = /^[A-Z][A-Z0-9_]{0,63}$/;

/** One region of the registry. */
export const regionSchema = z.strictObject({
  /** Short name, also the REGION var of its Worker and the `region` label of metrics. */
  name: z.string().regex(NAME),
  /** The `[env.<env>]` section of wrangler.toml it deploys. */
  env: z.string().regex(NAME),
  /** Where its edge answers (the admin and catalog APIs the central side calls). */
  edge_url: z.url({ protocol: /^https$/ }),
  /** Durable Object jurisdiction of its user objects; null for none. */
  jurisdiction: z.enum(JURISDICTIONS).nullable(),
  /** Names of the secrets it needs (`wrangler secret put <NAME> --env <env>`); never their values. */
  secrets: z.array(z.string().regex(SECRET)).min(1).max(32),
  /** Its Kafka cluster, as its Worker's forwarder reaches it. */
  kafka: z.strictObject({
    brokers: z
      .array(z.string().regex(/^[a-z0-9.-]+:\d{1,5}$/i))
      .min(1)
      .max(16),
    client_id: z.string().min(1).max(64),
    ssl: z.boolean(),
    sasl_mechanism: z.enum(['', 'plain', 'scram-sha-256', 'scram-sha-512']),
  }),
});

/** The registry file. */
export const registrySchema = z
  .strictObject({
    $comment: z.string().optional(),
    regions: z.array(regionSchema).min(1).max(32),
  })
  .superRefine((registry, ctx) => {
    for (const key of ['name', 'env'] as const) {
      const seen = new Set<string>();
      for (const region of registry.regions) {
        if (seen.has(region[key])) ctx.addIssue({ code: 'custom', message: `duplicate region ${key} "${region[key]}"` });
        seen.add(region[key]);
      }
    }
  });

export type Region = z.infer<typeof regionSchema>;
export type Registry = z.infer<typeof registrySchema>;

/** Reads and validates the registry; throws with every problem when it is invalid. */
export function loadRegistry(path = 'regions.json'): Registry {
  const parsed = registrySchema.safeParse(JSON.parse(readFileSync(path, 'utf8')));
  if (!parsed.success) throw new Error(`${path}: ${z.prettifyError(parsed.error)}`);
  return parsed.data;
}

/** The registry's regions named in `names` (a REGIONS list), in that order; throws on an unknown name. */
export function selectRegions(registry: Registry, names: readonly string[]): Region[] {
  return names.map((name) => {
    const region = registry.regions.find((candidate) => candidate.name === name);
    if (!region) throw new Error(`unknown region "${name}" (regions.json has ${registry.regions.map((r) => r.name).join(', ')})`);
    return region;
  });
}

/** wrangler.toml as parsed TOML. */
export function readWranglerToml(path = 'wrangler.toml'): Record<string, unknown> {
  return parseToml(readFileSync(path, 'utf8')) as Record<string, unknown>;
}

const envSectionsSchema = z.record(z.string(), z.looseObject({ vars: z.record(z.string(), z.unknown()).optional() }));

/** The `[env.<name>]` sections of a parsed wrangler.toml, in file order. */
export function wranglerEnvs(toml: Record<string, unknown>): Record<string, { vars?: Record<string, unknown> }> {
  return envSectionsSchema.parse(toml.env ?? {});
}

/** Region (wrangler environment) names of wrangler.toml, in file order. */
export function regionsOf(wranglerToml = 'wrangler.toml'): string[] {
  return Object.keys(wranglerEnvs(readWranglerToml(wranglerToml)));
}

/**
 * Where the registry and wrangler.toml disagree, as `<region>: <problem>` lines: every
 * region has its environment and every environment a region; each environment's vars
 * say the region's name, jurisdiction and Kafka cluster; no secret is also a plain var.
 */
export function registryProblems(registry: Registry, toml: Record<string, unknown>): string[] {
  const problems: string[] = [];
  const envs = wranglerEnvs(toml);
  for (const env of Object.keys(envs)) {
    if (!registry.regions.some((region) => region.env === env))
      problems.push(`${env}: [env.${env}] in wrangler.toml is not in regions.json`);
  }
  for (const region of registry.regions) {
    const section = envs[region.env];
    if (!section) {
      problems.push(`${region.name}: wrangler.toml has no [env.${region.env}]`);
      continue;
    }
    const vars = section.vars ?? {};
    const expected: Record<string, string> = {
      REGION: region.name,
      USER_STATE_JURISDICTION: region.jurisdiction ?? '',
      KAFKA_BROKERS: region.kafka.brokers.join(','),
      KAFKA_CLIENT_ID: region.kafka.client_id,
      KAFKA_SSL: String(region.kafka.ssl),
      KAFKA_SASL_MECHANISM: region.kafka.sasl_mechanism,
    };
    for (const [name, value] of Object.entries(expected)) {
      if (vars[name] !== value) {
        problems.push(
          `${region.name}: [env.${region.env}.vars] ${name} is ${JSON.stringify(vars[name])}, regions.json says ${JSON.stringify(value)}`,
        );
      }
    }
    for (const secret of region.secrets) {
      if (secret in vars)
        problems.push(`${region.name}: secret ${secret} is also a plain var in wrangler.toml (secrets go through wrangler secret put)`);
    }
  }
  return problems;
}
