import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Config } from './config.ts';

/** AES-256-GCM for sensitive data at rest (saved payment tokens, addresses on request). */
export interface SecretBox {
  encrypt(plain: string): string;
  decrypt(sealed: string): string;
}

const VERSION = 'v1';
const TAG_BYTES = 16;

export function loadEncryptionKey(config: Config): Buffer {
  if (config.ENCRYPTION_KEY) return Buffer.from(config.ENCRYPTION_KEY, 'hex');
  if (config.dataDirIsMemory) return randomBytes(32);
  return loadOrCreateKeyFile(config.DATA_DIR, 'encryption-key');
}

/**
 * A 32-byte key kept as hex in `<dataDir>/<name>`, created on first use. Two processes starting at
 * once on a new DATA_DIR must end up with the same key, so the file is created exclusively and the
 * loser of that race reads the winner's key instead of overwriting it.
 */
export function loadOrCreateKeyFile(dataDir: string, name: string): Buffer {
  const file = join(dataDir, name);
  if (!existsSync(file)) {
    mkdirSync(dataDir, { recursive: true });
    try {
      writeFileSync(file, randomBytes(32).toString('hex'), { mode: 0o600, flag: 'wx' });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
  }
  const key = Buffer.from(readFileSync(file, 'utf8').trim(), 'hex');
  if (key.length !== 32) throw new Error(`${file} does not hold a 32-byte hex key; restore it from a backup or set the variable`);
  return key;
}

export function createSecretBox(key: Buffer): SecretBox {
  if (key.length !== 32) throw new Error('ENCRYPTION_KEY must be 32 bytes (64 hex characters)');
  return {
    encrypt(plain) {
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', key, iv);
      const body = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
      return [VERSION, iv.toString('base64url'), cipher.getAuthTag().toString('base64url'), body.toString('base64url')].join('.');
    },
    decrypt(sealed) {
      const [version, iv, tag, body, extra] = sealed.split('.');
      if (version !== VERSION || !iv || !tag || body === undefined || extra !== undefined) throw new Error('Unrecognised ciphertext');
      const authTag = Buffer.from(tag, 'base64url');
      // GCM accepts tags as short as 4 bytes unless told otherwise; a truncated tag is a forgery aid.
      if (authTag.length !== TAG_BYTES) throw new Error('Unrecognised ciphertext');
      const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'), { authTagLength: TAG_BYTES });
      decipher.setAuthTag(authTag);
      return Buffer.concat([decipher.update(Buffer.from(body, 'base64url')), decipher.final()]).toString('utf8');
    },
  };
}
