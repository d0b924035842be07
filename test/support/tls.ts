/**
 * Test PKI generated once per test process with openssl: a CA, a server
 * certificate for 127.0.0.1/localhost and a client certificate (EC P-256,
 * valid for 2 days). Files live in the session directory and disappear with it.
 */
import { execFile } from "node:child_process"
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { promisify } from "node:util"
import { sessionDir } from "./registry.ts"

const run = promisify(execFile)

export interface TlsFiles {
  /** CA certificate that signed both server and client certificates. */
  readonly caFile: string
  /** Client certificate (use for `tls.cert` in clients). */
  readonly certFile: string
  /** Client private key (use for `tls.key` in clients). */
  readonly keyFile: string
  /** Server certificate (SAN IP:127.0.0.1, DNS:localhost). */
  readonly serverCertFile: string
  /** Server private key. */
  readonly serverKeyFile: string
}

/** The `{ ca, cert, key }` buffers ioredis / node:tls expect. */
export interface TlsClientOptions {
  readonly ca: Buffer
  readonly cert: Buffer
  readonly key: Buffer
}

let pending: Promise<TlsFiles> | undefined

const EC = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]

const openssl = async (dir: string, args: string[]): Promise<void> => {
  try {
    await run("openssl", args, { cwd: dir, timeout: 30_000 })
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr ?? ""
    throw new Error(`openssl ${args[0]} failed: ${(error as Error).message}\n${stderr}`)
  }
}

const serial = (): string => `0x${Math.floor(Math.random() * 0xffffffff).toString(16)}${Date.now().toString(16)}`

const issue = async (dir: string, name: string, cn: string, extensions: string): Promise<void> => {
  await openssl(dir, ["req", ...EC, "-keyout", `${name}.key`, "-out", `${name}.csr`, "-subj", `/CN=${cn}`])
  writeFileSync(join(dir, `${name}.ext`), extensions)
  await openssl(dir, [
    "x509",
    "-req",
    "-in",
    `${name}.csr`,
    "-CA",
    "ca.crt",
    "-CAkey",
    "ca.key",
    "-set_serial",
    serial(),
    "-days",
    "2",
    "-sha256",
    "-extfile",
    `${name}.ext`,
    "-out",
    `${name}.crt`
  ])
}

const generate = async (): Promise<TlsFiles> => {
  // Lives as long as the session directory (not removed by stopAll, since it is cached).
  const dir = mkdtempSync(join(sessionDir(), "tls-"))
  await openssl(dir, [
    "req",
    "-x509",
    ...EC,
    "-keyout",
    "ca.key",
    "-out",
    "ca.crt",
    "-days",
    "2",
    "-sha256",
    "-subj",
    "/CN=effect-redis-mcp test CA",
    "-addext",
    "basicConstraints=critical,CA:TRUE",
    "-addext",
    "keyUsage=critical,keyCertSign,cRLSign"
  ])
  await issue(
    dir,
    "server",
    "localhost",
    "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyAgreement\n" +
      "extendedKeyUsage=serverAuth,clientAuth\nsubjectAltName=IP:127.0.0.1,DNS:localhost\n"
  )
  await issue(
    dir,
    "client",
    "effect-redis-mcp-test-client",
    "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyAgreement\nextendedKeyUsage=clientAuth\n"
  )
  return {
    caFile: join(dir, "ca.crt"),
    certFile: join(dir, "client.crt"),
    keyFile: join(dir, "client.key"),
    serverCertFile: join(dir, "server.crt"),
    serverKeyFile: join(dir, "server.key")
  }
}

/** The cached test PKI; generated on first call. */
export const tlsFiles = (): Promise<TlsFiles> => {
  if (pending === undefined) {
    pending = generate()
    pending.catch(() => {
      pending = undefined // allow a retry after a failure
    })
  }
  return pending
}

/** Reads the PEM files into the shape ioredis' `tls` option expects. */
export const tlsClientOptions = (files: TlsFiles): TlsClientOptions => ({
  ca: readFileSync(files.caFile),
  cert: readFileSync(files.certFile),
  key: readFileSync(files.keyFile)
})
