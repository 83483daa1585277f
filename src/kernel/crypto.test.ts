import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startTestApp } from '../../test/support/app.ts';
import { loadConfig } from './config.ts';
import { createSecretBox, loadEncryptionKey } from './crypto.ts';

const dirs: string[] = [];
const tempDir = () => {
  const dir = mkdtempSync(join(tmpdir(), 'bazaar-keys-'));
  dirs.push(dir);
  return dir;
};
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** Flips one bit of one decoded part of a sealed value. */
function tamper(sealed: string, part: 1 | 2 | 3): string {
  const parts = sealed.split('.');
  const bytes = Buffer.from(parts[part]!, 'base64url');
  bytes[0] = bytes[0]! ^ 0x01;
  parts[part] = bytes.toString('base64url');
  return parts.join('.');
}

describe('AES-256-GCM secret box', () => {
  const box = createSecretBox(randomBytes(32));

  it('opens what it sealed, whatever the text', () => {
    for (const plain of ['4242 4242 4242 4242', '', 'Straße 5, 10115 Berlin ✓', 'x'.repeat(10_000)]) {
      expect(box.decrypt(box.encrypt(plain))).toBe(plain);
    }
  });

  it('seals the same text differently every time and never shows it', () => {
    const a = box.encrypt('tok_visa_4242');
    const b = box.encrypt('tok_visa_4242');
    expect(a).not.toBe(b);
    expect(a).not.toContain('tok_visa_4242');
    expect(Buffer.from(a.split('.')[3]!, 'base64url').toString('utf8')).not.toContain('visa');
  });

  it.each([
    ['nonce', 1],
    ['tag', 2],
    ['ciphertext', 3],
  ] as const)('refuses a value whose %s was altered', (_name, part) => {
    const sealed = box.encrypt('tok_visa_4242');
    expect(() => box.decrypt(tamper(sealed, part))).toThrow();
  });

  it('refuses a truncated tag, a wrong key, and anything that is not a sealed value', () => {
    const sealed = box.encrypt('tok_visa_4242');
    const parts = sealed.split('.');
    const shortTag = [parts[0], parts[1], Buffer.from(parts[2]!, 'base64url').subarray(0, 4).toString('base64url'), parts[3]].join('.');
    expect(() => box.decrypt(shortTag)).toThrow();
    expect(() => createSecretBox(randomBytes(32)).decrypt(sealed)).toThrow();
    for (const junk of ['', 'hello', 'v2.a.b.c', `${sealed}.extra`]) expect(() => box.decrypt(junk)).toThrow();
  });

  it('insists on a 32-byte key', () => {
    expect(() => createSecretBox(randomBytes(16))).toThrow(/32 bytes/);
  });
});

describe('the encryption key', () => {
  it('comes from ENCRYPTION_KEY when set', () => {
    const hex = 'ab'.repeat(32);
    const key = loadEncryptionKey(loadConfig({ ENCRYPTION_KEY: hex, DATA_DIR: tempDir() }));
    expect(key.toString('hex')).toBe(hex);
  });

  it('is generated once under DATA_DIR, readable only by its owner, and the same on every later start', () => {
    const dataDir = tempDir();
    const config = loadConfig({ DATA_DIR: dataDir });
    const sealed = createSecretBox(loadEncryptionKey(config)).encrypt('saved card token');
    expect(statSync(join(dataDir, 'encryption-key')).mode & 0o777).toBe(0o600);
    expect(readFileSync(join(dataDir, 'encryption-key'), 'utf8')).toMatch(/^[0-9a-f]{64}$/);
    expect(createSecretBox(loadEncryptionKey(config)).decrypt(sealed)).toBe('saved card token');
  });

  it('refuses to start on a damaged key file instead of replacing it', () => {
    const dataDir = tempDir();
    writeFileSync(join(dataDir, 'encryption-key'), 'not a key');
    expect(() => loadEncryptionKey(loadConfig({ DATA_DIR: dataDir }))).toThrow(/encryption-key/);
    expect(readFileSync(join(dataDir, 'encryption-key'), 'utf8')).toBe('not a key');
  });

  it('keeps tokens and sealed values valid across an app restart when no keys are configured', async () => {
    const env = { DATA_DIR: tempDir(), JWT_SECRET: '', ENCRYPTION_KEY: '' };
    const first = await startTestApp(env, { modules: [] });
    try {
      const token = await first.app.ctx.tokens.signAccess({ userId: 'u1', roles: ['customer'], sessionId: 's1' });
      const sealed = first.app.ctx.secrets.encrypt('address on request');
      await first.app.close();
      const second = await first.restart(env);
      try {
        expect(await second.app.ctx.tokens.verifyAccess(token)).toEqual({ userId: 'u1', roles: ['customer'], sessionId: 's1' });
        expect(second.app.ctx.secrets.decrypt(sealed)).toBe('address on request');
      } finally {
        await second.app.close();
      }
    } finally {
      await first.close();
    }
  });
});
