import type { ModuleContext } from './module.ts';

/** On a context made from the app's (contextForWork): the app's own context. */
export const APP_CONTEXT = Symbol('bazaar.app-context');

/** The app a context belongs to: itself, or the app context a work's context was made from. */
export function appContextOf(ctx: ModuleContext): ModuleContext {
  return (ctx as ModuleContext & { [APP_CONTEXT]?: ModuleContext })[APP_CONTEXT] ?? ctx;
}

/**
 * A value made once per app (per ModuleContext) and shared by a module's routes, ports and handlers,
 * which each receive only the context. Not one per process: two apps in one process (tests, a
 * restart) keep theirs apart, and an app's values go with it. A context made for one unit of work
 * (contextForWork) gets its app's value.
 */
export function perApp<T>(create: (ctx: ModuleContext) => T): (ctx: ModuleContext) => T {
  const made = new WeakMap<ModuleContext, T>();
  return (given) => {
    const ctx = appContextOf(given);
    let value = made.get(ctx);
    if (value === undefined) made.set(ctx, (value = create(ctx)));
    return value;
  };
}
