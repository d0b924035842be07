/**
 * Quick input checks (`Tool.quickInput`): a plain test that arguments are exactly
 * what a tool's input schema decodes to unchanged, for the hot tools whose schema
 * decode costs more than their work. A test says yes only where the schema would;
 * anything else (a missing or unknown key, a wrong type, a value out of range) is
 * left to the schema, which words the error.
 */
import { isWellFormed } from "../services/KeyNames.ts"

/** A test of one value. */
export type Test = (v: unknown) => boolean

export const text =
  (min: number, max: number): Test =>
  (v) =>
    typeof v === "string" && v.length >= min && v.length <= max && isWellFormed(v)

export const matching =
  (pattern: RegExp): Test =>
  (v) =>
    typeof v === "string" && pattern.test(v)

/** A safe integer in [min, max] (Schema.Int with the range checks). */
export const intIn =
  (min: number, max: number): Test =>
  (v) =>
    typeof v === "number" && Number.isSafeInteger(v) && v >= min && v <= max

export const boolean: Test = (v) => typeof v === "boolean"

/** One of the given words (Schema.Literals of strings). */
export const oneOf =
  (...words: ReadonlyArray<string>): Test =>
  (v) =>
    typeof v === "string" && words.includes(v)

export const arrayOf =
  (item: Test, maxLength: number): Test =>
  (v) =>
    Array.isArray(v) && v.length <= maxLength && v.every(item)

const isPlainObject = (v: unknown): v is Record<string, unknown> => {
  if (typeof v !== "object" || v === null || Array.isArray(v)) return false
  const proto = Object.getPrototypeOf(v)
  return proto === Object.prototype || proto === null
}

/** A JSON value (what Schema.Json accepts): null, booleans, strings, finite numbers, arrays and plain objects of them. */
export const json: Test = (v) => {
  if (v === null || typeof v === "string" || typeof v === "boolean") return true
  if (typeof v === "number") return Number.isFinite(v)
  if (Array.isArray(v)) return v.every(json)
  if (!isPlainObject(v)) return false
  for (const key in v) if (!json(v[key])) return false
  return true
}

/**
 * A struct's quick input: a plain object with every `required` key, no key outside
 * `required` and `optional`, each value passing its test; the object itself, else undefined.
 */
export const struct =
  <A>(required: Record<string, Test>, optional: Record<string, Test> = {}) =>
  (u: unknown): A | undefined => {
    if (!isPlainObject(u)) return undefined
    let present = 0
    for (const key in u) {
      const test = Object.hasOwn(required, key)
        ? required[key]
        : Object.hasOwn(optional, key)
          ? optional[key]
          : undefined
      if (test === undefined || !test(u[key])) return undefined
      if (Object.hasOwn(required, key)) present++
    }
    return present === Object.keys(required).length ? (u as A) : undefined
  }
