/**
 * The bearer token of the local API: 32 random bytes as hex in `api.token`, mode 0600.
 */
import { randomBytes } from 'node:crypto'
import { chmod, writeFile } from 'node:fs/promises'
import { readTextIfExists } from '../files.js'

const TOKEN_SHAPE = /^[0-9a-f]{64}$/

/** The token in `path`, or `undefined` when there is no such file (or it is empty). */
export async function readApiToken (path: string): Promise<string | undefined> {
  const token = (await readTextIfExists(path))?.trim()
  return token === '' ? undefined : token
}

/**
 * The token in `path`; a new one when the file is missing or does not hold a token.
 * The file ends up mode 0600 whatever the umask.
 */
export async function ensureApiToken (path: string): Promise<string> {
  const existing = await readApiToken(path)
  if (existing != null && TOKEN_SHAPE.test(existing)) {
    await chmod(path, 0o600)
    return existing
  }
  const token = randomBytes(32).toString('hex')
  await writeFile(path, token + '\n', { mode: 0o600 })
  await chmod(path, 0o600)
  return token
}
