/**
 * Id generation. Ids are opaque strings; the default is a UUIDv7 (RFC 9562), time-ordered so
 * B-tree indexes on them stay append-mostly.
 */
export interface IdGenerator {
  /** A new globally unique id. Must never repeat, also across processes. */
  newId(): string;
}
