/**
 * What the admin command-line tools (models, catalog, placements) share: how they print
 * a result and how they end on an error. An admin API refusal prints the server's error
 * body, which names the field at fault; anything else prints its message. Both exit 1,
 * so a script that calls the tool stops.
 */
import { AdminApiError } from './api';

/** Prints an API result as indented JSON, the form every admin tool answers in. */
export function printJson(value: unknown): void {
  console.log(JSON.stringify(value, null, 2));
}

/** Runs a tool's `main`, turning a thrown error into a message on stderr and exit code 1. */
export function runAdminCli(main: () => Promise<void>): void {
  main().catch((error: unknown) => {
    if (error instanceof AdminApiError) console.error(`error ${error.status}: ${JSON.stringify(error.body, null, 2)}`);
    else console.error(error instanceof Error ? error.message : String(error));
    process.exit(1);
  });
}
