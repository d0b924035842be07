/**
 * Two small probes doctor makes outside the Redis client, each on a short-lived socket of its
 * own: does Redis answer a PING from a connection that never authenticated (is the default user
 * open?), and what certificate does a TLS Redis present (issuer, expiry, verification)?
 */
import { readFileSync } from "node:fs"
import { connect as netConnect, type Socket } from "node:net"
import { type ConnectionOptions, type PeerCertificate, type TLSSocket, connect as tlsConnect } from "node:tls"
import { Effect } from "effect"
import type { TlsSettings } from "../../layers/Config.ts"

const TIMEOUT_MS = 3000

/** The client side of the server's TLS settings (files read now; unreadable ones are left out). */
export const tlsOptions = (tls: TlsSettings, host: string): ConnectionOptions => {
  const read = (path: string | undefined) => {
    if (path === undefined) return undefined
    try {
      return readFileSync(path)
    } catch {
      return undefined
    }
  }
  const ca = read(tls.caFile)
  const cert = read(tls.certFile)
  const key = read(tls.keyFile)
  return {
    host,
    servername: tls.servername ?? (/^[\d.:]+$/.test(host) ? undefined : host),
    rejectUnauthorized: false,
    ...(ca ? { ca } : {}),
    ...(cert ? { cert } : {}),
    ...(key ? { key } : {})
  } as ConnectionOptions
}

const open = (host: string, port: number, tls: ConnectionOptions | undefined): Socket | TLSSocket =>
  tls === undefined ? netConnect({ host, port }) : tlsConnect({ ...tls, host, port })

/** What one unauthenticated PING gets: `open` (PONG), `closed` (an auth or protected-mode refusal), or an error text. */
export const unauthenticatedPing = (
  host: string,
  port: number,
  tls: ConnectionOptions | undefined
): Effect.Effect<"open" | "closed" | { readonly error: string }> =>
  Effect.callback<"open" | "closed" | { readonly error: string }>((resume) => {
    const socket = open(host, port, tls)
    let buffer = ""
    const done = (r: "open" | "closed" | { readonly error: string }) => {
      socket.destroy()
      resume(Effect.succeed(r))
    }
    socket.setTimeout(TIMEOUT_MS, () => done({ error: "timed out" }))
    socket.on("error", (e) => done({ error: (e as NodeJS.ErrnoException).code ?? e.message }))
    socket.on(tls === undefined ? "connect" : "secureConnect", () => socket.write("PING\r\n"))
    socket.on("data", (chunk) => {
      buffer += chunk.toString("utf8")
      const end = buffer.indexOf("\r\n")
      if (end < 0) return
      const line = buffer.slice(0, end)
      done(line === "+PONG" ? "open" : /^-(NOAUTH|DENIED|WRONGPASS|NOPERM)/.test(line) ? "closed" : { error: line })
    })
    return Effect.sync(() => socket.destroy())
  })

export interface PeerCertificateInfo {
  readonly subject: string
  readonly issuer: string
  readonly validTo: Date
  /** Verified against the configured CA (or the system's). */
  readonly authorized: boolean
  readonly authorizationError: string | undefined
}

/** The certificate a TLS server presents, read from a handshake that verifies nothing itself. */
export const peerCertificate = (
  host: string,
  port: number,
  tls: ConnectionOptions
): Effect.Effect<PeerCertificateInfo | { readonly error: string }> =>
  Effect.callback<PeerCertificateInfo | { readonly error: string }>((resume) => {
    const socket = tlsConnect({ ...tls, host, port })
    const done = (r: PeerCertificateInfo | { readonly error: string }) => {
      socket.destroy()
      resume(Effect.succeed(r))
    }
    socket.setTimeout(TIMEOUT_MS, () => done({ error: "timed out" }))
    socket.on("error", (e) => done({ error: (e as NodeJS.ErrnoException).code ?? e.message }))
    socket.on("secureConnect", () => {
      const cert: PeerCertificate = socket.getPeerCertificate()
      if (cert === undefined || Object.keys(cert).length === 0) return done({ error: "no certificate presented" })
      done({
        subject: String(cert.subject?.CN ?? JSON.stringify(cert.subject)),
        issuer: String(cert.issuer?.CN ?? JSON.stringify(cert.issuer)),
        validTo: new Date(cert.valid_to),
        authorized: socket.authorized,
        authorizationError: socket.authorizationError === null ? undefined : String(socket.authorizationError)
      })
    })
    return Effect.sync(() => socket.destroy())
  })
