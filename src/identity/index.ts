/**
 * @packageDocumentation
 *
 * The machine's Ed25519 key, stored protobuf-encoded in the home folder with mode 0600.
 * The same key, and so the same peer id, across restarts.
 */
import { chmod, mkdir, open, readFile, stat } from 'node:fs/promises'
import { dirname } from 'node:path'
import { generateKeyPair, privateKeyFromProtobuf, privateKeyToProtobuf } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import type { Ed25519PrivateKey, PeerId, PrivateKey } from '@libp2p/interface'
import { InvalidConfigError } from '../errors.js'

export interface Identity {
  privateKey: Ed25519PrivateKey
  peerId: PeerId
  /** the 32-byte Ed25519 seed (for node:crypto signing) */
  seed: Uint8Array
}

function toIdentity (key: PrivateKey, path: string): Identity {
  if (key.type !== 'Ed25519') {
    throw new InvalidConfigError(`the key at ${path} is ${key.type}, expected Ed25519`)
  }
  return { privateKey: key, peerId: peerIdFromPrivateKey(key), seed: key.raw.subarray(0, 32) }
}

/** Load the key at `path`, or create it (mode 0600) when missing. */
export async function loadOrCreateIdentity (path: string): Promise<{ identity: Identity, created: boolean }> {
  try {
    const bytes = await readFile(path)
    const info = await stat(path)
    if ((info.mode & 0o077) !== 0) await chmod(path, 0o600)
    let key: PrivateKey
    try {
      key = privateKeyFromProtobuf(bytes)
    } catch (err) {
      throw new InvalidConfigError(`the key at ${path} is unreadable (${(err as Error).message}); move it away to make a new identity`)
    }
    return { identity: toIdentity(key, path), created: false }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
  }
  await mkdir(dirname(path), { recursive: true, mode: 0o700 })
  const key = await generateKeyPair('Ed25519')
  // 'wx': never overwrite a key another process wrote meanwhile
  try {
    const fh = await open(path, 'wx', 0o600)
    try {
      await fh.writeFile(privateKeyToProtobuf(key))
      await fh.sync()
    } finally {
      await fh.close()
    }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return await loadOrCreateIdentity(path)
    throw err
  }
  await chmod(path, 0o600)
  return { identity: toIdentity(key, path), created: true }
}
