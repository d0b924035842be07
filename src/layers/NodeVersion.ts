/**
 * The Node version the server needs, checked by the launcher before anything
 * else loads. Plain code with no imports, so any Node can run it.
 */

/** The oldest Node the server runs on (package.json `engines` says the same). */
export const MINIMUM_NODE = "22.19.0"

/** Whether `version` ("major.minor.patch", as in `process.versions.node`) is at least `minimum`. */
export const nodeIsAtLeast = (version: string, minimum: string = MINIMUM_NODE): boolean => {
  const have = version.split(".").map((n) => Number.parseInt(n, 10) || 0)
  const need = minimum.split(".").map((n) => Number.parseInt(n, 10) || 0)
  for (let i = 0; i < need.length; i++) {
    const h = have[i] ?? 0
    const n = need[i] ?? 0
    if (h !== n) return h > n
  }
  return true
}

/** The line an unsupported Node gets: what is needed, what ran, and what to do. */
export const unsupportedNode = (version: string, execPath: string): string =>
  `effect-redis-mcp: Node.js ${MINIMUM_NODE} or newer is required, but this is Node.js ${version} (${execPath}). ` +
  "Run the server with a current Node.js (22 LTS from 22.19, or 24 LTS).\n"
