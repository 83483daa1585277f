// node-postgres's own conversion of a parameter to its text form (no types ship for this file).
declare module 'pg/lib/utils.js' {
  const utils: { prepareValue(value: unknown): unknown };
  export default utils;
}
