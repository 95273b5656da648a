/** Test helper: `wrangler dev` for a given config (see scripts/kafka/dev-worker.ts). */
export { startDevWorker, type DevWorker, type DevWorkerOptions } from '../../../scripts/kafka/dev-worker';
