// Reading the OpenAPI document in tests: every operation with its path and method.
export type Json = Record<string, any>;

const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];

/** Every operation of a document's paths, with the path and method it sits under. */
export function operationsOf(doc: Json): Array<{ path: string; method: string; operation: Json }> {
  return Object.entries(doc['paths'] as Json).flatMap(([path, item]) =>
    Object.entries(item as Json)
      .filter(([method]) => METHODS.includes(method))
      .map(([method, operation]) => ({ path, method, operation: operation as Json })),
  );
}
