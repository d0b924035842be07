/**
 * Static bearer tokens: stored only as SHA-256, compared in constant time.
 */
import { createHash, timingSafeEqual } from "node:crypto"
import type { TokenEntry } from "./AuthFile.ts"

/** SHA-256 of the token's UTF-8 bytes. */
export const sha256 = (token: string): Buffer => createHash("sha256").update(token, "utf8").digest()

/** SHA-256 of the token as 64 lowercase hex digits (what the auth file stores). */
export const sha256Hex = (token: string): string => sha256(token).toString("hex")

/**
 * The entry whose digest is the presented token's, or undefined.
 *
 * Why a scan and not a `Map` keyed by digest: both are safe, because the secret is the token and
 * what gets compared is its digest — timing could at best reveal a stored digest's leading bytes,
 * and a digest is no help without a pre-image. The scan makes that argument unnecessary: every
 * stored digest is compared with `timingSafeEqual`, with no early exit, so the time taken depends
 * only on the number of tokens in the file (bounded at load, and a 32-byte compare each: ~1 µs per
 * thousand tokens), never on which token matched or how much of it.
 */
export const findToken = (tokens: ReadonlyArray<TokenEntry>, presented: string): TokenEntry | undefined => {
  const digest = sha256(presented)
  let found: TokenEntry | undefined
  for (const entry of tokens) {
    const same = timingSafeEqual(entry.digest, digest)
    found = same && found === undefined ? entry : found
  }
  return found
}
