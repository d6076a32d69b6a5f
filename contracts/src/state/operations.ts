// The state operations (SPEC.md part 2, "Versioned state" and "Review"): read and patch a thread's
// state, its revisions, revert, and a person's answer to the AI's proposal. One contract each.
import { z } from 'zod';
import { IdParam, Integer, Page, pageRules } from '../common.js';
import { defineOperation } from '../operation.js';
import { Message } from '../messages/message.js';
import { State } from '../text.js';
import { ExpectedVersion, JsonPatchInput, StateRevision, StateRevisionWithState, ThreadState, VersionParam } from './state.js';

const conditional =
  'Conditional: send the version you last saw as `If-Match: "<version>"` (REST; `*` matches any) or ' +
  '`expected_version`; without it the answer is 428, with a stale one 412 (nothing stored).';

export const getState = defineOperation({
  name: 'threads.state.get',
  method: 'GET',
  path: '/ai/threads/{thread-id}/state',
  summary: "Get a thread's state",
  description: 'The state and its version. The REST face sends the version as the `ETag` (`"<version>"`).',
  tags: ['State'],
  auth: 'required',
  permission: 'ai_threads.view',
  rateLimit: 'requests',
  successStatus: 200,
  input: z.object({ threadId: IdParam }),
  output: ThreadState,
  errors: [401, 403, 404, 422, 429],
});

export const patchState = defineOperation({
  name: 'threads.state.patch',
  method: 'PATCH',
  path: '/ai/threads/{thread-id}/state',
  summary: "Patch a thread's state",
  description:
    'Changes the state with exactly one of `merge_patch` (RFC 7396) or `json_patch` (RFC 6902, all six operations). ' +
    'The REST face also takes the raw patch as the body, as `application/merge-patch+json` or ' +
    '`application/json-patch+json`. A JSON Patch that does not apply (a failed `test`, a missing path) is a 409 ' +
    'naming the operation; a result over the state limits a 422. A change makes a revision (`source: "state"`); ' +
    `a patch that changes nothing makes none. ${conditional}`,
  tags: ['State'],
  auth: 'required',
  permission: 'ai_threads.update',
  rateLimit: 'requests',
  successStatus: 200,
  input: z
    .object({
      threadId: IdParam,
      merge_patch: State.optional().meta({ description: 'A JSON Merge Patch (RFC 7396): an object; `null` removes a key.' }),
      json_patch: JsonPatchInput.optional(),
      expected_version: ExpectedVersion.optional(),
    })
    .superRefine((value, ctx) => {
      const given = Number(value.merge_patch !== undefined) + Number(value.json_patch !== undefined);
      if (given === 0) ctx.addIssue({ code: 'custom', path: ['merge_patch'], message: 'is required when json patch is not present' });
      if (given === 2) ctx.addIssue({ code: 'custom', path: ['json_patch'], message: 'must not be combined with merge patch' });
    }),
  output: ThreadState,
  errors: [400, 401, 403, 404, 409, 412, 413, 415, 422, 428, 429],
});

export const listRevisions = defineOperation({
  name: 'threads.state.revisions.list',
  method: 'GET',
  path: '/ai/threads/{thread-id}/state/revisions',
  summary: "List a thread's state revisions",
  description:
    'Newest first, with cursor pagination on versions: `next_cursor` continues the list (pass it as `after`: older ' +
    'versions); `before` gives the newer ones.',
  tags: ['State'],
  auth: 'required',
  permission: 'ai_threads.view',
  rateLimit: 'requests',
  successStatus: 200,
  input: z
    .object({
      threadId: IdParam,
      limit: Integer(1, 100).default(20).meta({ description: 'Page size, 1 to 100.' }),
      after: VersionParam.optional().meta({ description: 'Return revisions older than this version.' }),
      before: VersionParam.optional().meta({ description: 'Return revisions newer than this version.' }),
    })
    .superRefine(pageRules),
  output: Page(StateRevision).meta({ id: 'StateRevisionPage' }),
  errors: [401, 403, 404, 422, 429],
});

export const getRevision = defineOperation({
  name: 'threads.state.revisions.get',
  method: 'GET',
  path: '/ai/threads/{thread-id}/state/revisions/{version}',
  summary: 'Get a state revision',
  description: 'One revision, with the whole state of its version.',
  tags: ['State'],
  auth: 'required',
  permission: 'ai_threads.view',
  rateLimit: 'requests',
  successStatus: 200,
  input: z.object({ threadId: IdParam, version: VersionParam }),
  output: StateRevisionWithState,
  errors: [401, 403, 404, 422, 429],
});

export const revertState = defineOperation({
  name: 'threads.state.revert',
  method: 'POST',
  path: '/ai/threads/{thread-id}/state/revert',
  summary: 'Revert the state to a version',
  description:
    'The state of `version` becomes the state again, as a new revision (`source: "revert"`); history is never ' +
    `rewritten. Reverting to a state equal to the current one changes nothing (no revision). ${conditional}`,
  tags: ['State'],
  auth: 'required',
  permission: 'ai_threads.update',
  rateLimit: 'requests',
  successStatus: 200,
  input: z.object({
    threadId: IdParam,
    version: VersionParam.meta({ description: 'The version whose state to restore.' }),
    expected_version: ExpectedVersion.optional(),
  }),
  output: ThreadState,
  errors: [400, 401, 403, 404, 412, 413, 422, 428, 429],
});

export const ProposalAccepted = ThreadState.extend({
  message: Message.meta({ description: 'The message, its proposal now `accepted`.' }),
}).meta({ id: 'ProposalAccepted' });

const Pointer = z
  .string()
  .max(1024)
  .regex(/^(\/([^~/]|~[01])*)*$/, { error: 'must be a JSON Pointer such as /form/color' });

export const acceptProposal = defineOperation({
  name: 'messages.proposal.accept',
  method: 'POST',
  path: '/ai/threads/{thread-id}/messages/{message-id}/proposal/accept',
  summary: "Accept the AI's proposal",
  description:
    "Review mode: applies the proposal's patch to the current state (409 when it no longer applies), as a revision " +
    '(`source: "proposal"`), and marks it `accepted`. With `paths`, only the operations at or under those JSON ' +
    `Pointers are applied. 409 when the proposal is not pending; 404 for a message without one. ${conditional}`,
  tags: ['State'],
  auth: 'required',
  permission: 'ai_threads.update',
  rateLimit: 'requests',
  successStatus: 200,
  input: z.object({
    threadId: IdParam,
    messageId: IdParam,
    paths: z
      .array(Pointer)
      .min(1)
      .max(100)
      .optional()
      .meta({ description: 'Accept only the operations at or under these JSON Pointers (`/form/color`).' }),
    expected_version: ExpectedVersion.optional(),
  }),
  output: ProposalAccepted,
  errors: [400, 401, 403, 404, 409, 412, 413, 422, 428, 429],
});

export const rejectProposal = defineOperation({
  name: 'messages.proposal.reject',
  method: 'POST',
  path: '/ai/threads/{thread-id}/messages/{message-id}/proposal/reject',
  summary: "Reject the AI's proposal",
  description: 'Review mode: marks the proposal `rejected`; the state is left as it is. 409 when it is not pending.',
  tags: ['State'],
  auth: 'required',
  permission: 'ai_threads.update',
  rateLimit: 'requests',
  successStatus: 200,
  input: z.object({ threadId: IdParam, messageId: IdParam }),
  output: Message,
  errors: [401, 403, 404, 409, 422, 429],
});
