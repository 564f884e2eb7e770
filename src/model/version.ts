/**
 * The package version, read once from `package.json` two folders up from this module
 * (`dist/model/` or `src/model/`).
 */
import { readFile } from 'node:fs/promises'

let cached: string | undefined

export async function packageVersion (): Promise<string> {
  if (cached === undefined) {
    const text = await readFile(new URL('../../package.json', import.meta.url), 'utf8')
    const version = (JSON.parse(text) as { version?: unknown }).version
    cached = typeof version === 'string' ? version : 'unknown'
  }
  return cached
}
