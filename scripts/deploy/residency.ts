/**
 * Data residency of the deployed regions (docs/identity.md): a region's
 * USER_STATE_JURISDICTION must name a Durable Object jurisdiction (or be empty), and a
 * region that keeps its users in a jurisdiction keeps its Kafka separate too: its
 * brokers are shared with no other region, so its events never land in another region's
 * cluster. Checked by the bundle check (`npm test`) and before every deploy, on each
 * region's vars as wrangler resolves them.
 */
import { JURISDICTIONS, jurisdictionOf } from '../../shared/residency';

/** The residency settings of one region, as wrangler resolves its vars. */
export interface RegionResidency {
  region: string;
  jurisdiction: string | undefined;
  brokers: string | undefined;
}

const brokerSet = (value: string | undefined) =>
  new Set(
    (value ?? '')
      .split(',')
      .map((broker) => broker.trim().toLowerCase())
      .filter(Boolean),
  );

/** What is wrong with the regions' residency settings, as `<region>: <problem>` lines. */
export function residencyProblems(regions: readonly RegionResidency[]): string[] {
  const problems: string[] = [];
  for (const region of regions) {
    const jurisdiction = jurisdictionOf(region.jurisdiction);
    if (jurisdiction === undefined) {
      problems.push(
        `${region.region}: USER_STATE_JURISDICTION "${region.jurisdiction}" is not one of ${JURISDICTIONS.join(', ')} (or empty)`,
      );
      continue;
    }
    if (jurisdiction === null) continue;
    const own = brokerSet(region.brokers);
    for (const other of regions) {
      if (other === region) continue;
      const shared = [...brokerSet(other.brokers)].filter((broker) => own.has(broker));
      if (shared.length > 0) {
        problems.push(
          `${region.region}: keeps its users in the ${jurisdiction} jurisdiction but shares Kafka brokers with ${other.region} (${shared.join(', ')}): give it its own cluster`,
        );
      }
    }
  }
  return problems;
}

/** {@link residencyProblems} of every region of the wrangler configuration. */
export async function regionResidencyProblems(regions: readonly string[], config = 'wrangler.toml'): Promise<string[]> {
  // Loaded on use: wrangler takes seconds to import.
  const { unstable_readConfig } = await import('wrangler');
  return residencyProblems(
    regions.map((region) => {
      const { vars } = unstable_readConfig({ config, env: region }, { hideWarnings: true });
      const text = (name: string) => (typeof vars[name] === 'string' ? (vars[name] as string) : undefined);
      return { region, jurisdiction: text('USER_STATE_JURISDICTION'), brokers: text('KAFKA_BROKERS') };
    }),
  );
}
