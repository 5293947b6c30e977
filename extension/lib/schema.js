// A small JSON-Schema checker for the status document: just the keywords shared/status.schema.json uses
// (type, required, properties, items, enum, const, oneOf, $ref, minimum, minLength, pattern). A full validator
// would be heavier than the rest of the extension; this one is enough to refuse a wrong-shaped document
// instead of drawing a wrong colour from it.

function typeOk(value, type) {
  switch (type) {
    case "object": return value !== null && typeof value === "object" && !Array.isArray(value);
    case "array": return Array.isArray(value);
    case "string": return typeof value === "string";
    case "integer": return Number.isInteger(value);
    case "number": return typeof value === "number" && Number.isFinite(value);
    case "boolean": return typeof value === "boolean";
    case "null": return value === null;
    default: return true;
  }
}

function resolve(root, ref) {
  // Only local references ("#/$defs/x") occur in the contract.
  if (!ref.startsWith("#/")) throw new Error(`unsupported $ref ${ref}`);
  return ref.slice(2).split("/").reduce((node, key) => node[key], root);
}

/** First problem found in `value` against `schema`, as "path: reason", or null when it conforms. */
export function firstError(value, schema, root = schema, path = "$") {
  if (schema.$ref) return firstError(value, resolve(root, schema.$ref), root, path);
  if ("const" in schema && value !== schema.const) {
    return `${path}: expected ${JSON.stringify(schema.const)}`;
  }
  if (schema.enum && !schema.enum.includes(value)) {
    return `${path}: ${JSON.stringify(value)} is not one of ${JSON.stringify(schema.enum)}`;
  }
  if (schema.type) {
    const types = Array.isArray(schema.type) ? schema.type : [schema.type];
    if (!types.some((t) => typeOk(value, t))) return `${path}: expected ${types.join(" or ")}`;
  }
  if (schema.oneOf) {
    const matches = schema.oneOf.filter((s) => firstError(value, s, root, path) === null).length;
    if (matches !== 1) return `${path}: matches ${matches} of the allowed shapes, expected exactly 1`;
  }
  if (typeof value === "number" && "minimum" in schema && value < schema.minimum) {
    return `${path}: below ${schema.minimum}`;
  }
  if (typeof value === "string") {
    if ("minLength" in schema && value.length < schema.minLength) return `${path}: too short`;
    if (schema.pattern && !new RegExp(schema.pattern).test(value)) return `${path}: wrong format`;
  }
  if (typeOk(value, "object")) {
    for (const key of schema.required || []) {
      if (!(key in value)) return `${path}: missing "${key}"`;
    }
    for (const [key, sub] of Object.entries(schema.properties || {})) {
      if (key in value) {
        const err = firstError(value[key], sub, root, `${path}.${key}`);
        if (err) return err;
      }
    }
  }
  if (Array.isArray(value) && schema.items) {
    for (let i = 0; i < value.length; i++) {
      const err = firstError(value[i], schema.items, root, `${path}[${i}]`);
      if (err) return err;
    }
  }
  return null;
}
