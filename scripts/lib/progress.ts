/**
 * Progress bars for long pipeline steps: on stderr (stdout stays machine-readable, e.g.
 * `--json`), and silent when stderr is not a terminal (CI logs, pipes).
 */
import cliProgress from 'cli-progress';

/** The part of a bar the pipeline uses. */
export interface Progress {
  update(value: number): void;
  increment(delta?: number): void;
  stop(): void;
}

const silent: Progress = { update: () => {}, increment: () => {}, stop: () => {} };

/**
 * A bar titled `label` going to `total` (0: unknown total, only the count is shown);
 * a no-op when stderr is not a TTY.
 */
export function progressBar(label: string, total: number): Progress {
  if (!process.stderr.isTTY) return silent;
  const bar = new cliProgress.SingleBar(
    {
      format:
        total > 0 ? `${label.padEnd(22)} [{bar}] {percentage}% | {value}/{total} | eta {eta_formatted}` : `${label.padEnd(22)} {value}`,
      stream: process.stderr,
      hideCursor: true,
      clearOnComplete: false,
    },
    cliProgress.Presets.shades_classic,
  );
  bar.start(total, 0);
  let value = 0;
  return {
    update: (v) => {
      value = v;
      bar.update(v);
    },
    increment: (d = 1) => {
      value += d;
      // Redrawing every call costs more than the work on small steps; cli-progress throttles itself.
      bar.update(value);
    },
    stop: () => bar.stop(),
  };
}
