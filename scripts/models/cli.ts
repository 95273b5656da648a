/**
 * `npm run model -- <command>`: manage model and catalog versions of an edge deployment.
 *
 *   upload <dir> [--activate] [--canary <share>]   upload a model or catalog directory
 *   list [models|catalogs]                         finalized versions and the pointer
 *   active                                         the pointer and the isolate cache
 *   activate <version> [--canary <share>]          go live (or canary for a share of users)
 *   activate-catalog <version>
 *   promote | rollback | canary-stop
 *   seed-demo                                      upload + activate data/sample
 *   status                                         every region's live and canary versions
 *
 * Target: --url or EDGE_URL (default http://127.0.0.1:8787). Token: ADMIN_TOKEN, else
 * the one in .dev.vars (created by npm start). The fleet (docs/regions.md): `status` shows
 * every region (regions.json, or the local fleet's ports with REGIONS=eu,us); `--region eu`
 * sends activate / promote / rollback / canary-stop to that region alone, `--all` to every
 * region through the pipeline's durable per-region queues (a region that is down gets it
 * when it returns; --state, default models-out/fleet).
 */
import { parseArgs } from 'node:util';
import { adminTokenFromEnv } from '../dev/dev-vars';
import { AdminClient } from './api';
import { printJson, runAdminCli } from './admin-cli';
import { readArtifactDir } from './files';
import { seedDemo } from './seed-demo';
import { fleetTargets } from './fleet-targets';
import { fleetStatus, printFleetStatus } from './status';
import { FleetAdminClient } from '../pipeline/publish/fleet';

const USAGE = `usage: npm run model -- <upload <dir> [--activate] [--canary s] | list [models|catalogs] | active |
  activate <version> [--canary s] | activate-catalog <version> | promote | rollback | canary-stop | seed-demo | status>
  [--url http://127.0.0.1:8787 | --region <name> | --all [--state models-out/fleet]]`;

function adminToken(): string {
  const token = adminTokenFromEnv();
  if (!token) throw new Error('set ADMIN_TOKEN (or run npm start once to create .dev.vars)');
  return token;
}

function share(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const parsed = Number(value);
  if (!(parsed > 0 && parsed < 1)) throw new Error('--canary must be a share between 0 and 1, e.g. 0.1');
  return parsed;
}

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      url: { type: 'string' },
      canary: { type: 'string' },
      activate: { type: 'boolean' },
      region: { type: 'string' },
      all: { type: 'boolean', default: false },
      state: { type: 'string', default: 'models-out/fleet' },
      models: { type: 'string', default: process.env.MODELS_DIR ?? 'models-out/published' },
    },
  });
  const [command, arg] = positionals;
  if (command === 'status') return printFleetStatus(await fleetStatus(fleetTargets(), values.state));
  let baseUrl = values.url ?? process.env.EDGE_URL ?? 'http://127.0.0.1:8787';
  const token = adminToken();
  let client = new AdminClient({ baseUrl, token });
  if (values.region) {
    const target = fleetTargets().find((candidate) => candidate.region === values.region);
    if (!target) throw new Error(`unknown region ${values.region}`);
    ({ client } = target);
    baseUrl = target.url;
  } else if (values.all) {
    client = new FleetAdminClient({ members: fleetTargets(), stateDir: values.state, modelsDir: values.models });
  }
  const canary = share(values.canary);

  switch (command) {
    case 'upload': {
      if (!arg) throw new Error(USAGE);
      const artifact = await readArtifactDir(arg);
      const bytes = [...artifact.files.values()].reduce((sum, text) => sum + text.length, 0);
      console.log(`uploading ${artifact.kind} ${artifact.version}: ${artifact.files.size} files, ${(bytes / 1024).toFixed(0)} KB`);
      printJson(await client.upload(artifact.kind, artifact.version, artifact.files));
      if (values.activate || canary !== undefined) {
        printJson(
          artifact.kind === 'model' ? await client.activateModel(artifact.version, canary) : await client.activateCatalog(artifact.version),
        );
      }
      return;
    }
    case 'list':
      return printJson(await client.list(arg === 'catalogs' ? 'catalog' : 'model'));
    case 'active':
      return printJson(await client.active());
    case 'activate':
      if (!arg) throw new Error(USAGE);
      return printJson(await client.activateModel(arg, canary));
    case 'activate-catalog':
      if (!arg) throw new Error(USAGE);
      return printJson(await client.activateCatalog(arg));
    case 'promote':
      return printJson(await client.promote());
    case 'rollback':
      return printJson(await client.rollback());
    case 'canary-stop':
      return printJson(await client.stopCanary());
    case 'seed-demo':
      await seedDemo(baseUrl, token, { log: console.log });
      return;
    case 'catch-up':
      if (!(client instanceof FleetAdminClient)) throw new Error('catch-up needs --all');
      return client.catchUp();
    default:
      throw new Error(USAGE);
  }
}

runAdminCli(main);
