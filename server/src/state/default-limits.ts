// The shape of the state limits and their defaults, apart from the checks (limits.ts), so that the
// configuration can name them without loading the contracts.

/** What a state may look like, whoever sends or changes it (a client, a model). */
export interface StateLimits {
  /** Containers nested deeper than this are refused (`{}` is 1 level, `{"a": {}}` is 2). */
  maxDepth: number;
  /** The state's JSON, in UTF-8 bytes. */
  maxBytes: number;
}

/** The defaults of STATE_MAX_DEPTH and STATE_MAX_BYTES (config.ts). */
export const DEFAULT_STATE_LIMITS: StateLimits = { maxDepth: 32, maxBytes: 64 * 1024 };
