/**
 * Schema pieces of the tools that read one value a part at a time (`get`,
 * `hget`): the byte range asked for, and the part returned with where to go on.
 */
import { Schema } from "effect"
import { Encoding } from "../services/Values.ts"

/** `offset` and `length` of a ranged read. */
export const rangeInput = {
  offset: Schema.optionalKey(
    Schema.Int.check(Schema.isGreaterThanOrEqualTo(0)).annotate({
      description: "First byte to read (default 0). Pass the offset of a truncated result to continue."
    })
  ),
  length: Schema.optionalKey(
    Schema.Int.check(Schema.isGreaterThanOrEqualTo(1)).annotate({
      description: "Most bytes to read from offset (default: to the end, within the output cap)."
    })
  )
}

/** A value, or the part of it read. */
export const partOutput = {
  found: Schema.Boolean,
  value: Schema.NullOr(Schema.String).annotate({ description: "The value (or the part read); null when not found." }),
  encoding: Encoding.annotate({
    description: '"utf8" when the value is text; "base64" when its bytes are not valid UTF-8 (decode before use).'
  }),
  length: Schema.Int.annotate({ description: "Total size of the stored value in bytes (0 when not found)." }),
  truncated: Schema.Boolean.annotate({ description: "True when more of the value follows the returned part." }),
  offset: Schema.optionalKey(
    Schema.Int.annotate({ description: "Only when truncated: pass this as offset to read the next part." })
  )
}
