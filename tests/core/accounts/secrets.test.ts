import { chmodSync, writeFileSync } from 'node:fs';
import { generateKeyPairSync } from 'node:crypto';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { UserError } from '../../../src/core/errors.js';
import {
  ApiCredentials,
  DEFAULT_SCRYPT,
  decryptCredentials,
  encryptCredentials,
  formatMode,
  passphraseFromEnv,
  readKeyFile,
} from '../../../src/core/accounts/secrets.js';
import { tempHome } from '../../helpers/app.js';

const CHEAP = { N: 1024, r: 8, p: 1 };
const SECRET = 'hmacSecretValue0123456789abcdefXYZ';
const KEY = 'apiKeyValue-ABCDEFGH1234';

function thrown(fn: () => unknown): Error {
  try {
    fn();
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected an error');
}

/** Flips one bit of the base64 field `index` (0 salt, 1 iv, 2 tag, 3 ciphertext) of a blob. */
function flip(blob: string, index: number): string {
  const parts = blob.split(':');
  const at = parts.length - 4 + index;
  const bytes = Buffer.from(parts[at], 'base64');
  bytes[bytes.length >> 1] ^= 0x01;
  parts[at] = bytes.toString('base64');
  return parts.join(':');
}

describe('secrets', () => {
  const cleanups: (() => void)[] = [];
  afterEach(() => {
    for (const c of cleanups.splice(0)) c();
  });
  const dir = () => {
    const t = tempHome('atm-secrets-');
    cleanups.push(t.cleanup);
    return t.home;
  };

  it('round-trips an HMAC secret with the default scrypt cost and a fresh salt each time', () => {
    const creds = new ApiCredentials(KEY, SECRET);
    const a = encryptCredentials(creds, 'correct horse');
    const b = encryptCredentials(creds, 'correct horse');
    expect(a).toMatch(new RegExp(`^atm-secret:v1:scrypt:N=${DEFAULT_SCRYPT.N},r=${DEFAULT_SCRYPT.r},p=${DEFAULT_SCRYPT.p}:`));
    expect(a).not.toBe(b);
    expect(a).not.toContain(SECRET);
    const back = decryptCredentials(a, 'correct horse', 'test');
    expect(back.apiKey).toBe(KEY);
    expect(back.secret()).toBe(SECRET);
    expect(back.keyType).toBe('hmac');
  });

  it('round-trips an Ed25519 PKCS#8 PEM and recognises its type', () => {
    const pem = generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    const creds = new ApiCredentials(KEY, pem);
    expect(creds.keyType).toBe('ed25519');
    const back = decryptCredentials(encryptCredentials(creds, 'pw', CHEAP), 'pw', 'test');
    expect(back.secret()).toBe(pem.trim());
    expect(back.keyType).toBe('ed25519');
    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    expect(thrown(() => new ApiCredentials(KEY, rsa)).message).toContain('rsa private key');
  });

  it('refuses a wrong passphrase with a clear user error that names the place, never the secret', () => {
    const blob = encryptCredentials(new ApiCredentials(KEY, SECRET), 'right', CHEAP);
    const error = thrown(() => decryptCredentials(blob, 'wrong', 'account main'));
    expect(error).toBeInstanceOf(UserError);
    expect(error.message).toBe('cannot decrypt the secret of account main: wrong passphrase, or the encrypted secret was changed');
    expect(error.message).not.toContain(SECRET);
  });

  it.each([
    ['salt', 0],
    ['iv', 1],
    ['tag', 2],
    ['ciphertext', 3],
  ])('detects one flipped bit in the %s', (_name, index) => {
    const blob = encryptCredentials(new ApiCredentials(KEY, SECRET), 'pw', CHEAP);
    const error = thrown(() => decryptCredentials(flip(blob, index), 'pw', 'account main'));
    expect(error).toBeInstanceOf(UserError);
    expect(error.message).toMatch(/wrong passphrase, or the encrypted secret was changed|damaged/);
  });

  it('detects changed parameters, a truncated blob and an unknown version', () => {
    const blob = encryptCredentials(new ApiCredentials(KEY, SECRET), 'pw', CHEAP);
    expect(thrown(() => decryptCredentials(blob.replace('N=1024', 'N=2048'), 'pw', 'x')).message).toContain('wrong passphrase, or the encrypted secret was changed');
    expect(thrown(() => decryptCredentials(blob.slice(0, 40), 'pw', 'x')).message).toContain('damaged');
    expect(thrown(() => decryptCredentials(blob.replace('v1', 'v9'), 'pw', 'x')).message).toContain('format v9');
  });

  it('reads key files of mode 0600 (JSON, two lines, encrypted) and refuses others naming the mode', () => {
    const d = dir();
    const json = join(d, 'key.json');
    writeFileSync(json, JSON.stringify({ apiKey: KEY, apiSecret: SECRET }), { mode: 0o600 });
    expect(readKeyFile(json).secret()).toBe(SECRET);

    const lines = join(d, 'key.txt');
    writeFileSync(lines, `${KEY}\n${SECRET}\n`, { mode: 0o600 });
    expect(readKeyFile(lines).apiKey).toBe(KEY);

    const enc = join(d, 'key.enc');
    writeFileSync(enc, encryptCredentials(new ApiCredentials(KEY, SECRET), 'usb', CHEAP), { mode: 0o600 });
    expect(readKeyFile(enc, () => 'usb').secret()).toBe(SECRET);
    expect(thrown(() => readKeyFile(enc)).message).toContain('is encrypted');

    chmodSync(json, 0o644);
    const error = thrown(() => readKeyFile(json));
    expect(error).toBeInstanceOf(UserError);
    expect(error.message).toBe(`key file ${json} has mode 0644: others can read it; make it readable by you alone (chmod 600 ${json})`);
    expect(error.message).not.toContain(SECRET);
    chmodSync(lines, 0o640);
    expect(thrown(() => readKeyFile(lines)).message).toContain('mode 0640');
    expect(formatMode(0o100600)).toBe('0600');
  });

  it('gives errors about a bad key file without its content', () => {
    const d = dir();
    const one = join(d, 'one');
    writeFileSync(one, `${SECRET}\n`, { mode: 0o600 });
    const e1 = thrown(() => readKeyFile(one));
    expect(e1.message).toContain('holds one line');
    expect(e1.message).not.toContain(SECRET);
    const bad = join(d, 'bad.json');
    writeFileSync(bad, `{"apiKey": "${KEY}", "apiSecret": "${SECRET} with spaces"}`, { mode: 0o600 });
    const e2 = thrown(() => readKeyFile(bad));
    expect(e2.message).toContain(`key file ${bad}: the API secret is not valid`);
    expect(e2.message).not.toContain(SECRET);
    expect(thrown(() => readKeyFile(join(d, 'missing'))).message).toContain('cannot be read (ENOENT)');
  });

  it('never shows the secret when credentials are printed, serialised or inspected', () => {
    const creds = new ApiCredentials(KEY, SECRET);
    for (const text of [String(creds), JSON.stringify({ creds }), inspect(creds), inspect({ nested: { creds } }), `${creds}`]) {
      expect(text).not.toContain(SECRET);
      expect(text).toContain('…1234');
    }
  });

  it('takes the passphrase from ATM_PASSPHRASE when set and not empty', () => {
    expect(passphraseFromEnv({ ATM_PASSPHRASE: 'p' })).toBe('p');
    expect(passphraseFromEnv({ ATM_PASSPHRASE: '' })).toBeUndefined();
    expect(passphraseFromEnv({})).toBeUndefined();
  });
});
