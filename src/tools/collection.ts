/**
 * Schema pieces shared by the hash, list, set and zset toolsets.
 */
import { Schema } from "effect"
import { Encoding } from "../services/Values.ts"
import { KEY_RULES, KeyName, Text, TtlSeconds as Ttl } from "./schemas.ts"

export const Key = KeyName.check(Schema.isMinLength(1)).annotate({ description: `The Redis key. ${KEY_RULES}` })

/** `encoding` of the values (or members) a call sends. */
export const InputEncoding = Schema.optionalKey(
  Encoding.annotate({
    description: 'How the values in this call are written: "utf8" text (default), or "base64" for binary data.'
  })
)

export const TtlSeconds = Schema.optionalKey(
  Ttl.annotate({
    description:
      "Expire the whole key this many seconds after the write (EXPIRE, in the same atomic step; at most 10 years). Without it, an existing TTL is kept."
  })
)

export const Cursor = Schema.optionalKey(
  Schema.String.annotate({
    description:
      "The cursor from the previous page (when it said truncated: true), passed back unchanged with the same other arguments. Leave it out for the first page."
  })
)

export const Limit = Schema.optionalKey(
  Schema.Int.check(Schema.isGreaterThanOrEqualTo(1)).annotate({
    description: "Most items on this page (the server caps every page, by default at 1000 items and 1 MiB)."
  })
)

/** The fields of one value on an output page. */
export const itemFields = {
  value: Schema.String,
  encoding: Encoding.annotate({ description: '"utf8" text, or "base64" when the bytes are not valid UTF-8.' }),
  truncated: Schema.optionalKey(
    Schema.Boolean.annotate({ description: "true when the value alone was over the output cap and was cut to fit." })
  ),
  length: Schema.optionalKey(Schema.Int.annotate({ description: "The value's full size in bytes, when truncated." }))
}

/** `truncated` and `cursor` of a paged output. */
export const pageFields = {
  truncated: Schema.Boolean.annotate({
    description: "true when more items remain: call again with the same arguments plus `cursor`."
  }),
  cursor: Schema.optionalKey(Schema.String.annotate({ description: "Pass back to get the next page." }))
}

/** A non-empty array of strings, described. */
export const nonEmptyStrings = (description: string) =>
  Schema.Array(Text).check(Schema.isMinLength(1)).annotate({ description })
