// The versioned state of a thread (SPEC.md part 2, "Versioned state"): the state and its version,
// the revisions that made it, JSON Patch (RFC 6902) as the resources carry it, and the AI's
// proposals in review mode.
import { z } from 'zod';
import { Integer, Timestamp } from '../common.js';
import { Count, Id } from '../fields.js';
import { State } from '../text.js';

/** A state version: 0 while the state was never set, then 1 more with every change. */
export const StateVersion = Count.meta({ description: 'The state version: 0 while never set, +1 with every change.' });

/** What the client last saw, as a precondition (`If-Match` on REST, or this field on both faces). */
/** The largest state version (the database stores versions as 32-bit integers). */
export const MAX_STATE_VERSION = 2_147_483_647;

/** A version in a path or query (revisions.get, revert, the revisions' cursors). */
export const VersionParam = Integer(1, MAX_STATE_VERSION);

export const ExpectedVersion = Integer(0, MAX_STATE_VERSION).meta({
  description:
    'The state version you last saw (the precondition; the REST face also takes `If-Match: "<version>"`). ' +
    'A stale version is a 412 and nothing is stored.',
});

export const JsonPatchOperation = z
  .object({
    op: z.enum(['add', 'remove', 'replace', 'move', 'copy', 'test']),
    path: z.string().meta({ description: 'A JSON Pointer (RFC 6901): `""` is the whole state, `~0` is `~`, `~1` is `/`.' }),
    from: z.string().optional().meta({ description: '`move` and `copy`: the JSON Pointer to take the value from.' }),
    value: z.unknown().optional().meta({ description: '`add`, `replace` and `test`: the value.' }),
  })
  .meta({ id: 'JsonPatchOperation', description: 'One JSON Patch (RFC 6902) operation.' });

/** A JSON Patch as the resources carry it (always well formed: the service made it). */
export const JsonPatch = z
  .array(JsonPatchOperation)
  .meta({ id: 'JsonPatch', description: 'A JSON Patch (RFC 6902): operations applied in order.' });
export type JsonPatch = z.infer<typeof JsonPatch>;

/**
 * A JSON Patch as a request sends it: any array here; its operations are checked by the service,
 * which names each problem (`json_patch.2.path`) in the 422.
 */
export const JsonPatchInput = z.custom<unknown[]>((value) => Array.isArray(value), { error: 'must be an array of operations' }).meta({
  description: 'A JSON Patch (RFC 6902): all six operations, `test` included.',
  override: {
    type: 'array',
    maxItems: 1000,
    items: {
      type: 'object',
      required: ['op', 'path'],
      properties: {
        op: { type: 'string', enum: ['add', 'remove', 'replace', 'move', 'copy', 'test'] },
        path: { type: 'string' },
        from: { type: 'string' },
        value: {},
      },
    },
  },
} as Record<string, unknown>);

/** A thread's state with its version (the ETag of the REST face is `"<version>"`). */
export const ThreadState = z
  .object({
    state: State.nullable().meta({ description: 'The state; null while it was never set.' }),
    version: StateVersion,
  })
  .meta({ id: 'ThreadState' });
export type ThreadState = z.infer<typeof ThreadState>;

export const RevisionSource = z
  .enum(['thread', 'message', 'ai', 'state', 'revert', 'proposal'])
  .meta({
    description:
      'What made the change: `thread` (the state given at creation), `message` (a state sent with a message), `ai` ' +
      '(the AI, with its reply), `state` (PATCH .../state), `revert`, or `proposal` (an accepted proposal).',
  });
export type RevisionSource = z.infer<typeof RevisionSource>;

export const StateRevision = z
  .object({
    version: Integer(1, MAX_STATE_VERSION).meta({ description: 'The version this revision made.' }),
    source: RevisionSource,
    message_id: Id.nullable().meta({
      description: '`message`: the user message; `ai`: the reply; `proposal`: the message whose proposal was accepted; else null.',
    }),
    patch: JsonPatch.meta({ description: "The JSON Patch from the previous version's state to this one." }),
    created_at: Timestamp,
  })
  .meta({ id: 'StateRevision' });
export type StateRevision = z.infer<typeof StateRevision>;

export const StateRevisionWithState = StateRevision.extend({
  state: State.nullable().meta({ description: 'The whole state of this version.' }),
}).meta({ id: 'StateRevisionWithState' });
export type StateRevisionWithState = z.infer<typeof StateRevisionWithState>;

export const ProposalStatus = z.enum(['pending', 'accepted', 'rejected', 'superseded']);

/** Review mode: the AI's change, waiting for a person. */
export const Proposal = z
  .object({
    status: ProposalStatus.meta({
      description: '`pending` until accepted or rejected; `superseded` when a newer reply proposed again first.',
    }),
    patch: JsonPatch.meta({ description: 'The JSON Patch from the state the AI started from to the proposed state.' }),
    proposed_state: State.meta({ description: 'The state the AI proposes.' }),
  })
  .meta({ id: 'Proposal' });
export type Proposal = z.infer<typeof Proposal>;

export const StateReview = z.enum(['auto', 'review']).meta({
  description: "`auto` (the default): the AI's changes are applied. `review`: they are proposed, for a person to accept or reject.",
});
export type StateReview = z.infer<typeof StateReview>;
