// The agent protocols' operations: routes that speak a front-end ecosystem's own protocol over the
// same answer run as .../messages/stream. One entry per protocol; contracts/src/index.ts puts the
// group in the table as `contracts.protocols`.
import { aguiRun } from './agui.js';
import { uiStream } from './ui-stream.js';

export const protocols = {
  agui: aguiRun,
  uiStream,
} as const;
