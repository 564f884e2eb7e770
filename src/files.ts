/**
 * @packageDocumentation
 *
 * Small file helpers shared by the home's files (config, team, API token).
 */
import { readFile } from 'node:fs/promises'

/** the file's text, or `undefined` when it does not exist; other errors are thrown */
export async function readTextIfExists (path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw err
  }
}
