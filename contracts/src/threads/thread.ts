// The AI thread resource, as every thread operation returns it.
import { z } from 'zod';
import { Timestamp } from '../common.js';
import { Count, Id } from '../fields.js';
import { StateReview, StateVersion } from '../state/state.js';
import { Metadata, State } from '../text.js';

export const Thread = z
  .object({
    id: Id,
    title: z.string().nullable(),
    instructions: z.string().nullable().meta({ description: 'System prompt for this thread.' }),
    state: State.nullable().meta({ description: 'The latest state: the last `updated_state`, or what was set at creation.' }),
    state_version: StateVersion,
    state_review: StateReview,
    metadata: Metadata,
    message_count: Count,
    head_message_id: Id.nullable().meta({
      description: 'The last message of the current branch (where the next message goes); null while there is none.',
    }),
    created_at: Timestamp,
    updated_at: Timestamp,
    last_message_at: Timestamp.nullable(),
  })
  .meta({ id: 'Thread' });
export type Thread = z.infer<typeof Thread>;


