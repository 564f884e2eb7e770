/**
 * Writes to the home's `config.json`: a `--name` given to `paired daemon` or `paired init`
 * is kept there, so a restart without the flag keeps the name.
 */
import { open, rename, rm } from 'node:fs/promises'
import { readTextIfExists } from '../files.js'
import { configWithName } from './config.js'

/** sets `"name"` in the config file at `path` (creating it, mode 0600); true when it changed */
export async function rememberName (path: string, name: string): Promise<boolean> {
  const next = configWithName(await readTextIfExists(path), name)
  if (next === undefined) return false
  const temp = `${path}.${process.pid}.tmp`
  try {
    const fh = await open(temp, 'w', 0o600)
    try {
      await fh.writeFile(next)
      await fh.sync()
    } finally {
      await fh.close()
    }
    await rename(temp, path)
  } catch (err) {
    await rm(temp, { force: true })
    throw err
  }
  return true
}
