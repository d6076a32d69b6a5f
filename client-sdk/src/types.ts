// The SDK's public types, named for readers and taken from the generated OpenAPI types
// (src/generated/api.ts): nothing here restates a schema. Add an alias when a resource gains one.
import type { components, operations } from './generated/api.js';

type Schemas = components['schemas'];

/** The JSON body of an operation's request. */
type JsonBody<K extends keyof operations> =
  NonNullable<operations[K]['requestBody']> extends { content: { 'application/json': infer B } } ? B : never;

/** The query parameters of an operation. */
type Query<K extends keyof operations> = NonNullable<operations[K]['parameters']['query']>;

export type User = Schemas['User'];
export type SessionResponse = Schemas['SessionResponse'];
export type Me = Schemas['Me'];
export type Permission = Me['permissions'][number];
export type ApiToken = Schemas['ApiToken'];
export type CreatedApiToken = Schemas['CreatedApiToken'];
export type Thread = Schemas['Thread'];
export type Message = Schemas['Message'];
export type MessagePair = Schemas['MessagePair'];
export type CancelResult = Schemas['CancelResult'];
export type Usage = Schemas['Usage'];
export type ErrorBody = Schemas['ErrorBody'];
export type ValidationErrorBody = Schemas['ValidationErrorBody'];

type StreamEventData = Schemas['StreamEventData'];
/** One server-sent event of a streamed answer: its name, its id (for `Last-Event-ID`) and its data. */
export type MessageStreamEvent = {
  [K in StreamEventData['type']]: { event: K; id: string; data: Extract<StreamEventData, { type: K }> };
}[StreamEventData['type']];
export type MessageStreamEventName = MessageStreamEvent['event'];

export type SignUpParams = JsonBody<'auth.signUp'>;
export type SignInParams = JsonBody<'auth.signIn'>;
export type ApiTokenCreateParams = JsonBody<'apiTokens.create'>;
export type ApiTokenListParams = Query<'apiTokens.list'>;
export type ThreadCreateParams = JsonBody<'threads.create'>;
export type ThreadUpdateParams = JsonBody<'threads.update'>;
export type ThreadListParams = Query<'threads.list'>;
export type MessageCreateParams = JsonBody<'messages.create'>;
export type MessageStreamParams = JsonBody<'messages.stream'>;
export type MessageListParams = Query<'messages.list'>;
