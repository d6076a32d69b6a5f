// The SDK's version; keep it equal to package.json's.
export const VERSION = '0.1.0';
