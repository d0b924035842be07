/**
 * How values cross the tool boundary: UTF-8 text as is, anything else as base64
 * with `encoding: "base64"`; and the size limit on what a write may store.
 */
import { isUtf8 } from "node:buffer"
import { Effect, Schema } from "effect"
import { InvalidArgument, orVoid, TooLarge } from "../Errors.ts"
import { isWellFormed } from "./KeyNames.ts"

export const Encoding = Schema.Literals(["utf8", "base64"])
export type Encoding = typeof Encoding.Type

export interface EncodedValue {
  readonly value: string
  readonly encoding: Encoding
}

/** A stored value as text when it is valid UTF-8, base64 otherwise. */
export const fromBuffer = (buf: Buffer): EncodedValue =>
  isUtf8(buf)
    ? { value: buf.toString("utf8"), encoding: "utf8" }
    : { value: buf.toString("base64"), encoding: "base64" }

/**
 * Any JSON value (payloads, results, documents, raw replies). Its JSON Schema is
 * the union of every JSON type rather than a bare `{}`, so schema linters that
 * want a validation keyword on every property (the MCP Inspector's portability
 * check) accept it; it validates exactly what `Schema.Json` does.
 */
export const JsonValue = Schema.Json.check(
  Schema.makeFilter(() => true, {
    toJsonSchema: () => ({ type: ["object", "array", "string", "number", "boolean", "null"] })
  })
)

/**
 * The bytes a tool input means, or why it means none: invalid base64, or text that is not
 * valid Unicode (a lone surrogate, which UTF-8 would turn into U+FFFD).
 */
export const bytesOf = (value: string, encoding: Encoding = "utf8"): Buffer | InvalidArgument => {
  if (encoding === "utf8") {
    return isWellFormed(value)
      ? Buffer.from(value, "utf8")
      : new InvalidArgument({
          message:
            'value is not valid Unicode text: it holds a lone UTF-16 surrogate, which cannot be stored as UTF-8 (it would become U+FFFD). Send well-formed text, or the bytes as base64 with encoding "base64".'
        })
  }
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(value) || value.length % 4 !== 0) {
    return new InvalidArgument({
      message:
        'value is not valid base64. Send standard base64 (A-Z a-z 0-9 + /, padded with =) or use encoding "utf8".'
    })
  }
  return Buffer.from(value, "base64")
}

/** The bytes a tool input means (bytesOf); an InvalidArgument when it means none. */
export const toBuffer = (value: string, encoding: Encoding = "utf8"): Effect.Effect<Buffer, InvalidArgument> => {
  const bytes = bytesOf(value, encoding)
  return Buffer.isBuffer(bytes) ? Effect.succeed(bytes) : Effect.fail(bytes)
}

/** Why a value over the configured maximum is refused, or undefined. */
export const sizeProblem = (what: string, bytes: number, limit: number): TooLarge | undefined =>
  bytes > limit
    ? new TooLarge({
        message: `${what} is ${bytes} bytes, over the ${limit}-byte limit (REDIS_MCP_MAX_VALUE_BYTES). Store a smaller value or split it across keys.`,
        size: bytes,
        limit
      })
    : undefined

/** Refuse a value over the configured maximum. */
export const checkSize = (what: string, bytes: number, limit: number): Effect.Effect<void, TooLarge> =>
  orVoid(sizeProblem(what, bytes, limit))
