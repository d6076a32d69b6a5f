// The error shape of the service's tRPC errors (`TRPCClientError.shape`, `error.data`): the same
// message and field errors as the REST face, as server/src/trpc/init.ts formats them. Written by
// hand because it is the server's formatter, not a contract; test/sdk/trpc-types.test.ts fails when
// it and the server's differ.
import type { TRPC_ERROR_CODE_KEY, TRPC_ERROR_CODE_NUMBER } from '@trpc/server';

export interface AiThreadsTRPCErrorShape {
  message: string;
  code: TRPC_ERROR_CODE_NUMBER;
  data: {
    code: TRPC_ERROR_CODE_KEY;
    /** The status the REST face answers for the same error (422, 429, …). */
    httpStatus: number;
    path: string | undefined;
    /** 422: every field's messages. */
    errors?: Record<string, string[]> | undefined;
    /** 429 and busy 409: seconds to wait before retrying. */
    retryAfter?: number | undefined;
  };
}
