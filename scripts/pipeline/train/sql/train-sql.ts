/**
 * Training as SQL over the lake: builds the plan (plan.ts), runs it on an engine and
 * assembles the artifact (assemble.ts). The default engine is DuckDB embedded.
 */
import { createHash } from 'node:crypto';
import { DEFAULT_TRAIN_PARAMS, type TrainParams } from '../params';
import { SESSION_GAP_MS } from '../sessions';
import type { LakeLocation } from '../../lake/location';
import type { ModelArtifact } from '../train';
import { assembleArtifact, type TrainTables } from './assemble';
import { DUCKDB, SPARK } from './dialect';
import { runOnSpark, type SparkOptions } from './engine-spark';
import { openDuckSession, type TrainEngineOptions } from './engine-duckdb';
import { FULL_BUILD, listStatements, statisticsStatements } from './plan';
import type { SignalRow } from './sessions';
import type { Duck } from '../../lake/duckdb';

/** What each event type counts as in a session (TODO: derive from the event semantics table). */
export function signalRows(params: TrainParams): SignalRow[] {
  const w = params.popularityTypeWeights;
  return [
    { type: 'product_view', signal: 'product_view', weight: w.product_view, itemsFrom: 'item_id' },
    { type: 'rec_click', signal: 'product_view', weight: w.product_view, itemsFrom: 'item_id' },
    { type: 'add_to_cart', signal: 'add_to_cart', weight: w.add_to_cart, itemsFrom: 'item_id' },
    { type: 'purchase', signal: 'purchase', weight: w.purchase, itemsFrom: 'items' },
  ];
}

/** A training run over the lake. */
export interface SqlTrainOptions extends TrainEngineOptions {
  /** `duckdb` (embedded, default) or `spark` (pyspark; see engine-spark.ts). */
  engine?: 'duckdb' | 'spark';
  spark?: SparkOptions;
  params?: Partial<TrainParams>;
  fromTs?: number;
  toTs?: number;
  version?: string;
  /** Called after each statement with its table name and seconds. */
  onStep?: (name: string, seconds: number) => void;
}

/** Reads the result tables of a finished plan. */
export async function readTables(duck: Duck, inputHash: string, known?: TrainTables['counters']): Promise<TrainTables> {
  const [counters] = known
    ? [
        {
          sessions: String(known.sessions),
          events: String(known.events),
          from_ts: known.fromTs === null ? null : String(known.fromTs),
          to_ts: known.toTs === null ? null : String(known.toTs),
        },
      ]
    : await duck.rows<{ sessions: string; events: string; from_ts: string | null; to_ts: string | null }>('SELECT * FROM t_counters');
  const num = (v: string | null | undefined): number | null => (v === null || v === undefined ? null : Number(v));
  return {
    neighbours: (async function* () {
      for await (const rows of duck.chunks(
        `SELECT kind, i, j, score FROM t_neighbours ORDER BY i, CASE kind WHEN 'session' THEN 0 WHEN 'next' THEN 1 ELSE 2 END, score DESC, j`,
      ))
        yield rows as Array<[string, string, string, number]>;
    })(),
    popTop: (await duck.rows<{ scope: string; key: string; item: string; w: number }>('SELECT scope, key, item, w FROM t_pop_top')).map(
      (r) => [r.scope, r.key, r.item, Number(r.w)],
    ),
    itemCategory: (await duck.rows<{ item: string; category: string }>('SELECT item, category FROM t_item_category')).map((r) => [
      r.item,
      r.category,
    ]),
    counters: {
      sessions: Number(counters?.sessions ?? 0),
      events: Number(counters?.events ?? 0),
      fromTs: num(counters?.from_ts),
      toTs: num(counters?.to_ts),
    },
    inputHash,
  };
}

/** The sha256 of the input fingerprint table. */
export async function fingerprint(duck: Duck): Promise<string> {
  const [row] = await duck.rows('SELECT * FROM t_fingerprint');
  return createHash('sha256').update(JSON.stringify(row)).digest('hex');
}

/** Result tables a model is assembled from. */
export const OUTPUT_TABLES = ['t_neighbours', 't_pop_top', 't_item_category', 't_counters', 't_fingerprint'] as const;

/** Full rebuild: the lake's events in [fromTs, toTs) → model artifact, on DuckDB or Spark. */
export async function trainOnLake(lake: LakeLocation, options: SqlTrainOptions = {}): Promise<ModelArtifact> {
  const params: TrainParams = { ...DEFAULT_TRAIN_PARAMS, ...options.params };
  const range = {
    ...(options.fromTs !== undefined ? { fromTs: options.fromTs } : {}),
    ...(options.toTs !== undefined ? { toTs: options.toTs } : {}),
  };
  if (options.engine === 'spark') {
    const statements = [
      ...statisticsStatements(SPARK, 'events', signalRows(params), { ...params, gapMs: SESSION_GAP_MS }),
      ...listStatements(params, FULL_BUILD),
    ];
    const run = await runOnSpark(lake, range, statements, OUTPUT_TABLES, {
      ...options.spark,
      ...(options.catalogCategories ? { catalogCategories: options.catalogCategories } : {}),
      ...(options.onStep ? { onStep: options.onStep } : {}),
    });
    try {
      return await assembleArtifact(await readTables(run.duck, await fingerprint(run.duck)), params, options.version);
    } finally {
      run.close();
    }
  }
  const session = await openDuckSession(
    lake,
    { ...(options.fromTs !== undefined ? { fromTs: options.fromTs } : {}), ...(options.toTs !== undefined ? { toTs: options.toTs } : {}) },
    options,
  );
  try {
    await session.run(
      [
        ...statisticsStatements(DUCKDB, 'events', signalRows(params), { ...params, gapMs: SESSION_GAP_MS }),
        ...listStatements(params, FULL_BUILD),
      ],
      options.onStep,
    );
    return await assembleArtifact(await readTables(session.duck, await fingerprint(session.duck)), params, options.version);
  } finally {
    session.close();
  }
}
