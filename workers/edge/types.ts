/** Hono typing shared by the edge routes: bindings are the Worker's Env. */
export interface AppEnv {
  Bindings: Env;
}
