// The ai-threads client SDK. The typed client arrives with its own issue; for now the package
// re-exports the contracts' types so front ends can already share them.
export const SDK_VERSION = '0.1.0';
