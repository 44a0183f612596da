/**
 * A refusal of the legacy v1 API: a stable `result` code (V1_RESULTS, with its HTTP status), a
 * sentence for a person and, when one parameter is at fault, its name. errors.ts answers it.
 */
export const V1_RESULTS = {
  InvalidParameter: 400,
  Unauthorized: 401,
  Forbidden: 403,
  NotFound: 404,
  UnsupportedMediaType: 415,
  TooManyRequests: 429,
  InternalError: 500,
} as const;
export type V1Result = keyof typeof V1_RESULTS;

export class V1Error extends Error {
  constructor(
    readonly result: V1Result,
    message: string,
    readonly parameter?: string,
  ) {
    super(message);
    this.name = 'V1Error';
  }
  get status(): number {
    return V1_RESULTS[this.result];
  }
}
