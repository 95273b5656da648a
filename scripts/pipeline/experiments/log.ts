/**
 * The experiment log, in the attribution store's database: every experiment the
 * controller has seen (definition, policy, start, end, outcome) and every decision it
 * took, with all the numbers it was based on. `npm run experiments -- report` and the
 * dashboard read it; nothing is ever updated in place except an experiment's end.
 */
import type { DatabaseSync } from 'node:sqlite';
import { experimentSchema, type Experiment } from '../../../shared/recs/registry/experiment';
import { experimentPolicySchema, type Decision, type ExperimentPolicy } from './decide';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS experiments (
  name TEXT PRIMARY KEY, kind TEXT NOT NULL, definition TEXT NOT NULL, policy TEXT NOT NULL,
  started_at INTEGER NOT NULL, ended_at INTEGER, outcome TEXT
);
CREATE TABLE IF NOT EXISTS experiment_decisions (
  id INTEGER PRIMARY KEY AUTOINCREMENT, experiment TEXT NOT NULL, at INTEGER NOT NULL, action TEXT NOT NULL,
  variant TEXT, reason TEXT NOT NULL, numbers TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS decisions_by_experiment ON experiment_decisions (experiment, at);
`;

/** A canary (judged like an experiment) or a named experiment. */
export type ExperimentKind = 'canary' | 'experiment';

/** One experiment as the log knows it. */
export interface LoggedExperiment {
  name: string;
  kind: ExperimentKind;
  definition: Experiment;
  policy: ExperimentPolicy;
  started_at: number;
  ended_at: number | null;
  outcome: string | null;
}

/** One logged decision. */
export interface LoggedDecision {
  experiment: string;
  at: number;
  action: Decision['action'];
  variant: string | null;
  reason: string;
  numbers: Pick<Decision, 'variants' | 'comparisons' | 'srm' | 'age_ms' | 'policy'>;
}

interface ExperimentRow {
  name: string;
  kind: ExperimentKind;
  definition: string;
  policy: string;
  started_at: number;
  ended_at: number | null;
  outcome: string | null;
}

function fromRow(row: ExperimentRow): LoggedExperiment {
  return {
    ...row,
    definition: experimentSchema.parse(JSON.parse(row.definition)),
    policy: experimentPolicySchema.parse(JSON.parse(row.policy)),
  };
}

/** JSON with the infinities of an undecided confidence sequence kept as strings. */
const encode = (value: unknown): string =>
  JSON.stringify(value, (_key, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? String(v) : v));

export class ExperimentLog {
  constructor(private readonly db: DatabaseSync) {
    db.exec(SCHEMA);
  }

  /** Records an experiment the first time it is seen; later calls leave it as it is. */
  register(kind: ExperimentKind, definition: Experiment, policy: ExperimentPolicy, startedAt: number): LoggedExperiment {
    this.db
      .prepare('INSERT OR IGNORE INTO experiments (name, kind, definition, policy, started_at) VALUES (?, ?, ?, ?, ?)')
      .run(definition.name, kind, JSON.stringify(definition), JSON.stringify(policy), startedAt);
    return this.get(definition.name)!;
  }

  get(name: string): LoggedExperiment | null {
    const row = this.db.prepare('SELECT * FROM experiments WHERE name = ?').get(name) as ExperimentRow | undefined;
    return row ? fromRow(row) : null;
  }

  /** Every experiment, newest first. */
  list(): LoggedExperiment[] {
    return (this.db.prepare('SELECT * FROM experiments ORDER BY started_at DESC').all() as unknown as ExperimentRow[]).map(fromRow);
  }

  /** Marks an experiment ended with `outcome` (promote:<variant>, rollback, conclude, stopped). */
  end(name: string, outcome: string, at: number): void {
    this.db.prepare('UPDATE experiments SET ended_at = ?, outcome = ? WHERE name = ? AND ended_at IS NULL').run(at, outcome, name);
  }

  record(decision: Decision, at: number): void {
    const { variants, comparisons, srm, age_ms, policy } = decision;
    this.db
      .prepare('INSERT INTO experiment_decisions (experiment, at, action, variant, reason, numbers) VALUES (?, ?, ?, ?, ?, ?)')
      .run(
        decision.experiment,
        at,
        decision.action,
        decision.variant,
        decision.reason,
        encode({ variants, comparisons, srm, age_ms, policy }),
      );
  }

  /** Decisions of one experiment (or all), newest first. */
  decisions(experiment?: string, limit = 50): LoggedDecision[] {
    const rows = (experiment === undefined
      ? this.db.prepare('SELECT * FROM experiment_decisions ORDER BY id DESC LIMIT ?').all(limit)
      : this.db
          .prepare('SELECT * FROM experiment_decisions WHERE experiment = ? ORDER BY id DESC LIMIT ?')
          .all(experiment, limit)) as unknown as {
      experiment: string;
      at: number;
      action: Decision['action'];
      variant: string | null;
      reason: string;
      numbers: string;
    }[];
    return rows.map((row) => ({ ...row, numbers: JSON.parse(row.numbers) as LoggedDecision['numbers'] }));
  }
}
