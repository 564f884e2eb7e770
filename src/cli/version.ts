/**
 * The package version, read from `package.json` two folders up from this module
 * (`dist/cli/` or `src/cli/`).
 */
import { readFile } from 'node:fs/promises'

export async function packageVersion (): Promise<string> {
  const text = await readFile(new URL('../../package.json', import.meta.url), 'utf8')
  const version = (JSON.parse(text) as { version?: unknown }).version
  return typeof version === 'string' ? version : 'unknown'
}
