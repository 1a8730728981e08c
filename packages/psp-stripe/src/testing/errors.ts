/** An API error as Stripe sends it: an HTTP status and `{ error: { type, code, message, param } }`. */
export class FakeStripeError extends Error {
  constructor(
    readonly status: number,
    readonly body: {
      type: string;
      message: string;
      code?: string;
      decline_code?: string;
      param?: string;
    },
  ) {
    super(body.message);
  }
}

export const invalidRequest = (message: string, code?: string, param?: string) =>
  new FakeStripeError(400, {
    type: "invalid_request_error",
    message,
    ...(code ? { code } : {}),
    ...(param ? { param } : {}),
  });

export const notFound = (kind: string, id: string, param = "id") =>
  new FakeStripeError(404, {
    type: "invalid_request_error",
    code: "resource_missing",
    message: `No such ${kind}: '${id}'`,
    param,
  });
