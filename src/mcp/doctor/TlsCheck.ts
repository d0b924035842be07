/**
 * TLS towards Redis: on or off (and whether that matters: off is fine on loopback), whether the
 * certificate is verified, and when the certificates in play expire — the CA and client
 * certificate files, and the one the server presents.
 */
import { X509Certificate } from "node:crypto"
import { readFileSync } from "node:fs"
import { Effect } from "effect"
import type { RedisSettings } from "../../layers/Config.ts"
import { peerCertificate, tlsOptions } from "./Network.ts"
import { isLoopbackHost, splitAddress } from "./Probe.ts"
import { type Check, check } from "./Report.ts"

/** Fewer days than this left on a certificate: a warning. */
export const EXPIRY_WARN_DAYS = 30
const DAY_MS = 86_400_000
const inDays = (n: number) => (n === 0 ? "today" : `in ${n} day${n === 1 ? "" : "s"}`)

export const tlsCheck = (settings: RedisSettings, addresses: ReadonlyArray<string>): Check => {
  const remote = addresses.filter((a) => !isLoopbackHost(splitAddress(a).host))
  if (!settings.tls.enabled) {
    return remote.length > 0
      ? check(
          "tls",
          "TLS to Redis",
          "warn",
          `TLS is off and Redis is at ${remote.join(", ")}: the password and every value cross the network in clear.`,
          "Enable TLS on Redis (tls-port) and connect with rediss:// and REDIS_TLS_CA_FILE."
        )
      : check("tls", "TLS to Redis", "pass", "TLS is off; Redis is on loopback, so nothing leaves this machine.")
  }
  if (settings.tls.insecure) {
    return check(
      "tls",
      "TLS to Redis",
      "warn",
      "TLS is on but REDIS_TLS_INSECURE skips certificate verification: anyone in the path can pose as Redis.",
      "Set REDIS_TLS_CA_FILE to the CA that signed Redis's certificate and remove REDIS_TLS_INSECURE."
    )
  }
  const ca = settings.tls.caFile === undefined ? "the system's CAs" : `the CA in ${settings.tls.caFile}`
  const client = settings.tls.certFile === undefined ? "" : `, client certificate ${settings.tls.certFile}`
  return check("tls", "TLS to Redis", "pass", `TLS is on, the certificate verified against ${ca}${client}.`)
}

interface Expiry {
  readonly what: string
  readonly validTo: Date
}

const fileExpiry = (what: string, path: string): Expiry | string => {
  try {
    const cert = new X509Certificate(readFileSync(path))
    return { what: `${what} ${path}`, validTo: new Date(cert.validTo) }
  } catch (e) {
    return `${what} ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`
  }
}

export const certificatesCheck = Effect.fn("Doctor.certificates")(function* (
  settings: RedisSettings,
  addresses: ReadonlyArray<string>,
  now: number
) {
  if (!settings.tls.enabled)
    return check("tls.certificates", "TLS certificates", "pass", "TLS is off: no certificates.")
  const found: Array<Expiry> = []
  const problems: Array<string> = []
  for (const [what, path] of [
    ["CA file", settings.tls.caFile],
    ["client certificate", settings.tls.certFile]
  ] as const) {
    if (path === undefined) continue
    const r = fileExpiry(what, path)
    if (typeof r === "string") problems.push(r)
    else found.push(r)
  }
  const first = addresses[0]
  if (first !== undefined) {
    const { host, port } = splitAddress(first)
    const peer = yield* peerCertificate(host, port, tlsOptions(settings.tls, host))
    if ("error" in peer) problems.push(`Redis's certificate at ${first}: ${peer.error}`)
    else {
      found.push({ what: `Redis's certificate (${peer.subject}, issued by ${peer.issuer})`, validTo: peer.validTo })
      if (!peer.authorized && !settings.tls.insecure) {
        problems.push(`Redis's certificate does not verify: ${peer.authorizationError}`)
      }
    }
  }
  const details = { certificates: found.map((f) => ({ what: f.what, validTo: f.validTo.toISOString() })), problems }
  const days = (e: Expiry) => Math.floor((e.validTo.getTime() - now) / DAY_MS)
  const expired = found.filter((e) => days(e) < 0)
  if (problems.length > 0 || expired.length > 0) {
    return check(
      "tls.certificates",
      "TLS certificates",
      "fail",
      [...problems, ...expired.map((e) => `${e.what} expired on ${e.validTo.toISOString().slice(0, 10)}`)].join("; "),
      "Renew or fix the certificate files named above and restart the server.",
      details
    )
  }
  const soon = found.filter((e) => days(e) < EXPIRY_WARN_DAYS)
  if (soon.length > 0) {
    return check(
      "tls.certificates",
      "TLS certificates",
      "warn",
      soon.map((e) => `${e.what} expires ${inDays(days(e))} (${e.validTo.toISOString().slice(0, 10)})`).join("; "),
      "Renew it before it expires: the connection fails the moment it does.",
      details
    )
  }
  const earliest = [...found].sort((a, b) => a.validTo.getTime() - b.validTo.getTime())[0]
  return check(
    "tls.certificates",
    "TLS certificates",
    "pass",
    earliest === undefined
      ? "no certificate files to read."
      : `${found.length} certificate${found.length === 1 ? "" : "s"} valid; the first to expire is ${earliest.what}, ${inDays(days(earliest))}.`,
    undefined,
    details
  )
})
