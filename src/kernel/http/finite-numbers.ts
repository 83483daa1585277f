import AjvCompiler from '@fastify/ajv-compiler';

type BuildValidator = ReturnType<typeof AjvCompiler>;
type Validate = ((data: unknown, context?: unknown) => boolean) & { errors?: unknown[] | null; schemaEnv?: unknown };

/**
 * Fastify's own validator compiler, with two more rules.
 * - A JSON body is taken as typed: only query strings, path parameters and headers, which are text,
 *   have their types coerced. Coerced, `{"quantity": null}` was 0 and removed a cart line,
 *   `{"quantity": true}` was 1, `"3"` was 3 and `[5]` was 5 (a refund of 5 cents).
 * - No number in the validated data may be infinite. Ajv's type coercion (8.20) turns a string such as
 *   "1e309" into Infinity and then skips the schema's minimum and maximum, so `?limit=1e309` passed
 *   validation and failed in the database with a 500 (and JSON's own 1e309 parses as Infinity).
 */
export function requestValidator(): BuildValidator {
  const build = AjvCompiler();
  return ((externalSchemas: unknown, options: { customOptions?: Record<string, unknown> }) => {
    const coercing = (build as any)(externalSchemas, options);
    const typed = (build as any)(externalSchemas, { ...options, customOptions: { ...options.customOptions, coerceTypes: false } });
    return (routeSchema: { httpPart?: string }) => refuseInfinity((routeSchema.httpPart === 'body' ? typed : coercing)(routeSchema) as Validate);
  }) as unknown as BuildValidator;
}

function refuseInfinity(validate: Validate): Validate {
  const checked: Validate = (data, context) => {
    if (!validate(data, context)) {
      checked.errors = validate.errors;
      return false;
    }
    // Read after validating: coercion has replaced the strings by then, a coerced root in its parent.
    const parent = context as { parentData: Record<string, unknown>; parentDataProperty: string } | undefined;
    const path = nonFinitePath(parent ? parent.parentData[parent.parentDataProperty] : data);
    if (path === undefined) {
      checked.errors = null;
      return true;
    }
    checked.errors = [{ instancePath: path, schemaPath: '#/finite', keyword: 'type', params: { type: 'number' }, message: 'must be a finite number' }];
    return false;
  };
  // Fastify passes the parent (so Ajv may replace a coerced root) only to functions that carry this.
  if (validate.schemaEnv !== undefined) checked.schemaEnv = validate.schemaEnv;
  return checked;
}

/** The JSON pointer of the first infinite (or NaN) number, walking without recursion (bodies may nest deeply). */
function nonFinitePath(root: unknown): string | undefined {
  const pending: [unknown, string][] = [[root, '']];
  while (pending.length > 0) {
    const [value, path] = pending.pop()!;
    if (typeof value === 'number') {
      if (!Number.isFinite(value)) return path;
    } else if (value !== null && typeof value === 'object') {
      for (const [key, child] of Object.entries(value)) pending.push([child, `${path}/${key.replaceAll('~', '~0').replaceAll('/', '~1')}`]);
    }
  }
  return undefined;
}
