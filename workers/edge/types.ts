/** Hono typing shared by the edge routes: bindings are the Worker's Env. */
export interface AppEnv {
  Bindings: Env;
  Variables: {
    /** Who called an admin route (set by auth.ts, read by the audit log); never the token itself. */
    caller?: Caller;
  };
}

/** An authenticated caller: the id of the token it presented and the secret slot that token is in. */
export interface Caller {
  token_id: string;
  slot: string;
}
