// Who may use the shop's staff side: the operator pages and `/v1/operator/*` (payments, dead
// letters, refunds) and, since the demo has no seller accounts, the seller pages and
// `/v1/sellers/*`. In development they are open to every visitor; with a token (`OPERATOR_TOKEN`,
// required when NODE_ENV=production) they need it, as `Authorization: Bearer <token>` or as the
// password of HTTP Basic (so a browser prompts for it).
import { createHash, timingSafeEqual } from "node:crypto";

const MIN_TOKEN_LENGTH = 16;

/** Equal-length digests, so that `timingSafeEqual` never throws and the length does not leak. */
const digest = (text) => createHash("sha256").update(text, "utf8").digest();

/** The token a request presents, if any. */
function presented(req) {
  const header = req.get("authorization") ?? "";
  const bearer = /^Bearer ([\x21-\x7e]+)$/i.exec(header);
  if (bearer) return bearer[1];
  const basic = /^Basic ([A-Za-z0-9+/]+={0,2})$/i.exec(header);
  if (!basic) return undefined;
  const decoded = Buffer.from(basic[1], "base64").toString("utf8");
  const colon = decoded.indexOf(":");
  return colon < 0 ? undefined : decoded.slice(colon + 1);
}

/**
 * `allows(req)` for the staff side. Throws at start-up when NODE_ENV=production has no token (or a
 * token too short to be a secret): the shop must not start with its money controls open.
 */
export function staffAccess({ production, operatorToken }) {
  if (operatorToken === undefined || operatorToken === "") {
    if (production) {
      throw new Error(
        "OPERATOR_TOKEN is required when NODE_ENV=production: without it the operator and seller pages " +
          "(refunds, dead letters) and /v1/operator/* would be open to every visitor. Set OPERATOR_TOKEN to a " +
          "long random secret, e.g. `openssl rand -hex 32`.",
      );
    }
    return { open: true, allows: () => true };
  }
  if (operatorToken.length < MIN_TOKEN_LENGTH) {
    throw new Error(
      `OPERATOR_TOKEN must be at least ${MIN_TOKEN_LENGTH} characters (use a long random secret).`,
    );
  }
  const expected = digest(operatorToken);
  return {
    open: false,
    allows(req) {
      const token = presented(req);
      return token !== undefined && timingSafeEqual(digest(token), expected);
    },
  };
}
