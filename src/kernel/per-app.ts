import type { ModuleContext } from './module.ts';

/**
 * A value made once per app (per ModuleContext) and shared by a module's routes, ports and handlers,
 * which each receive only the context. Not one per process: two apps in one process (tests, a
 * restart) keep theirs apart, and an app's values go with it.
 */
export function perApp<T>(create: (ctx: ModuleContext) => T): (ctx: ModuleContext) => T {
  const made = new WeakMap<ModuleContext, T>();
  return (ctx) => {
    let value = made.get(ctx);
    if (value === undefined) made.set(ctx, (value = create(ctx)));
    return value;
  };
}
