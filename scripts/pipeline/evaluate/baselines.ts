/**
 * Published session-based baselines, run on the evaluation's own split so the harness
 * can be checked against the session-rec framework's figures (Ludewig, Latifi, Jannach
 * et al.): SKNN, V-SKNN, STAN, VSTAN and SR, with the parameters named in issue 14's
 * table where it names them, else the authors' defaults. Written from the papers'
 * definitions for this harness (not the product; nothing here runs at the edge):
 *
 * - candidate sessions: every training session sharing an item with the prefix, the
 *   `sample` most recent of them (session end time);
 * - SKNN: cosine of item sets; score = Σ similarity over the k nearest;
 * - V-SKNN: prefix items weighted by position (i / length), similarity = Σ weights of
 *   shared items / length, votes × 1/steps back to the last shared item, IDF boost;
 * - STAN: position weights exp(-(L-p)/λ_spw) in a cosine, × exp(-age/λ_snh), votes ×
 *   exp(-|distance to the last shared item| / λ_inh);
 * - VSTAN: STAN plus V-SKNN's vote decay (exp on the matched position, λ_ipw) and IDF;
 * - SR: sequential rules i → j within 10 steps, weight 1/gap, top 20 per item, last item only.
 *
 * "all" ranks every scored item; "new" ranks them without the prefix's items.
 */
import type { CanonicalEvent } from '../../../shared/schema/events';
import { buildSessions, sortAndDedupe } from '../train/sessions';
import { CUTOFF, MetricSums, isRepeat, rankOf, sequenceFilter, type RankingMetrics, type TestSession } from './protocol';

const DAY_S = 86_400;

/** A training session: its sequence and end time (seconds). */
interface Past {
  items: string[];
  set: Set<string>;
  end: number;
}

/** Scores for the next item after `prefix`, whose last event is at `ts` (ms). */
type Predictor = (prefix: readonly string[], ts: number) => Map<string, number>;

/** The figures of one baseline. */
export interface BaselineResult {
  all: RankingMetrics;
  new: RankingMetrics;
}

interface KnnOptions {
  k: number;
  sample: number;
  /** STAN λ_spw (position weights of the prefix in a cosine); absent: plain cosine. */
  spw?: number;
  /** STAN λ_snh in days. */
  snh?: number;
  /** STAN λ_inh. */
  inh?: number;
  /** VSTAN λ_ipw: votes decay with how far back the last shared prefix item is. */
  ipw?: number;
  /** VSTAN / V-SKNN IDF boost: vote × (1 + idf × this). */
  idf?: number;
  /** V-SKNN: linear position weights (i / L), dot-product similarity, 1/step vote decay. */
  vsknn?: boolean;
}

/** The training sessions as the baselines see them (the protocol's sequence: views where a shop has them). */
function pastSessions(train: readonly CanonicalEvent[]): Past[] {
  const sorted = sortAndDedupe(train);
  return buildSessions(sorted, sequenceFilter(sorted)).map((s) => {
    const items = s.steps.map((step) => step.item);
    return { items, set: new Set(items), end: s.end / 1000 };
  });
}

function knnPredictor(past: readonly Past[], o: KnnOptions): Predictor {
  const byItem = new Map<string, number[]>();
  past.forEach((s, at) => {
    for (const item of s.set) {
      let list = byItem.get(item);
      if (!list) byItem.set(item, (list = []));
      list.push(at);
    }
  });
  const idf = new Map<string, number>();
  if (o.idf) {
    const counts = new Map<string, number>();
    for (const s of past) for (const item of s.items) counts.set(item, (counts.get(item) ?? 0) + 1);
    for (const [item, count] of counts) idf.set(item, Math.log(past.length / count));
  }
  return (prefix, ts) => {
    const now = ts / 1000;
    const candidates = new Set<number>();
    for (const item of prefix) for (const at of byItem.get(item) ?? []) candidates.add(at);
    let pool = [...candidates];
    if (pool.length > o.sample) pool = pool.sort((a, b) => past[b]!.end - past[a]!.end || b - a).slice(0, o.sample);
    const current = new Set(prefix);
    const weight = new Map<string, number>();
    prefix.forEach((item, p) => {
      const w = o.vsknn ? (p + 1) / prefix.length : o.spw ? Math.exp((p + 1 - prefix.length) / o.spw) : 1;
      weight.set(item, w);
    });
    let norm = 0;
    for (const item of current) norm += weight.get(item)! ** 2;
    const neighbours: Array<[number, number]> = [];
    for (const at of pool) {
      const s = past[at]!;
      let shared = 0;
      for (const item of current) if (s.set.has(item)) shared += weight.get(item)!;
      let similarity = o.vsknn ? shared / weight.size : shared / (Math.sqrt(norm) * Math.sqrt(s.set.size));
      if (o.snh) similarity *= Math.exp(-(now - s.end) / (o.snh * DAY_S));
      if (similarity > 0) neighbours.push([at, similarity]);
    }
    neighbours.sort((a, b) => b[1] - a[1] || b[0] - a[0]);
    const scores = new Map<string, number>();
    for (const [at, similarity] of neighbours.slice(0, o.k)) {
      const s = past[at]!;
      let decay = 1;
      if (o.vsknn || o.ipw) {
        // How far back in the prefix the last item this neighbour shares is.
        for (let step = 1; step <= prefix.length; step++)
          if (s.set.has(prefix[prefix.length - step]!)) {
            decay = o.vsknn ? 1 / step : Math.exp((1 - step) / o.ipw!);
            break;
          }
      }
      const last = new Map<string, number>();
      let star = 0;
      s.items.forEach((item, p) => {
        if (current.has(item)) star = p + 1;
        last.set(item, p + 1);
      });
      for (const [item, p] of last) {
        let vote = similarity * decay;
        if (o.inh) vote *= Math.exp(-Math.abs(p - star) / o.inh);
        if (o.idf) vote += vote * (idf.get(item) ?? 0) * o.idf;
        scores.set(item, (scores.get(item) ?? 0) + vote);
      }
    }
    return scores;
  };
}

function srPredictor(past: readonly Past[], steps = 10, prune = 20): Predictor {
  const rules = new Map<string, Map<string, number>>();
  for (const s of past)
    for (let i = 0; i < s.items.length; i++)
      for (let j = i + 1; j < s.items.length && j <= i + steps; j++) {
        if (s.items[i] === s.items[j]) continue;
        let row = rules.get(s.items[i]!);
        if (!row) rules.set(s.items[i]!, (row = new Map()));
        row.set(s.items[j]!, (row.get(s.items[j]!) ?? 0) + 1 / (j - i));
      }
  for (const [item, row] of rules) {
    const kept = [...row].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).slice(0, prune);
    rules.set(item, new Map(kept));
  }
  return (prefix) => new Map(rules.get(prefix[prefix.length - 1]!) ?? []);
}

function topIds(scores: Map<string, number>, skip?: ReadonlySet<string>): string[] {
  return [...scores]
    .filter(([id, score]) => score > 0 && !skip?.has(id))
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
    .slice(0, CUTOFF)
    .map(([id]) => id);
}

function score(predict: Predictor, test: readonly TestSession[]): BaselineResult {
  const all = new MetricSums();
  const fresh = new MetricSums();
  for (const session of test)
    for (let i = 1; i < session.items.length; i++) {
      const prefix = session.items.slice(0, i);
      const scores = predict(prefix, session.ts[i - 1]!);
      const target = session.items[i]!;
      all.add(rankOf(topIds(scores), target));
      if (!isRepeat(session, i)) fresh.add(rankOf(topIds(scores, new Set(prefix)), target));
    }
  return { all: all.metrics(), new: fresh.metrics() };
}

/** The baselines, named as in the table of docs/evaluation.md. */
export const BASELINES: Record<string, (past: readonly Past[]) => Predictor> = {
  // The settings: k 100, 1,000 most recent candidate sessions, cosine.
  sknn: (past) => knnPredictor(past, { k: 100, sample: 1000 }),
  // V-SKNN: session-rec's defaults (div weights, div vote decay, IDF weighting 1).
  vsknn: (past) => knnPredictor(past, { k: 100, sample: 1000, vsknn: true, idf: 1 }),
  // STAN and VSTAN: the authors' default λs (1.02, 5 days, 2.05; VSTAN λ_ipw 1.02, λ_idf 5).
  stan: (past) => knnPredictor(past, { k: 100, sample: 5000, spw: 1.02, snh: 5, inh: 2.05 }),
  vstan: (past) => knnPredictor(past, { k: 100, sample: 5000, spw: 1.02, snh: 5, inh: 2.05, ipw: 1.02, idf: 5 }),
  sr: (past) => srPredictor(past),
};

/** Every baseline on the split: trained on `train`, scored on `test`. */
export function runBaselines(train: readonly CanonicalEvent[], test: readonly TestSession[]): Record<string, BaselineResult> {
  const past = pastSessions(train);
  return Object.fromEntries(Object.entries(BASELINES).map(([name, make]) => [name, score(make(past), test)]));
}
