import { createCipheriv, createDecipheriv, createPrivateKey, randomBytes, scryptSync } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { inspect } from 'node:util';
import { UserError } from '../errors.js';

/**
 * API credentials of an actual account, encrypted at rest and decrypted only in memory.
 *
 * The stored text (one line, versioned so a later format can be read beside this one):
 *
 *   atm-secret:v1:scrypt:N=32768,r=8,p=1:<salt>:<iv>:<tag>:<ciphertext>     (base64 fields)
 *
 * The key is scrypt(passphrase, salt, N, r, p) → 32 bytes, a new random salt per secret; the
 * cipher is AES-256-GCM with a random 12-byte IV; the header up to the salt is authenticated data,
 * so changing the parameters, the salt, the IV, the tag or the ciphertext fails the check. The
 * plaintext is JSON `{ apiKey, apiSecret }`. A wrong passphrase and a changed blob cannot be told
 * apart (that is what authenticated encryption means); both give one clear UserError.
 *
 * Secrets never reach a log, an error message or the screen: `ApiCredentials` prints as
 * `[credentials …abcd]` (the key's last four characters) wherever it is inspected or serialised.
 */

export const SECRET_FORMAT = 'atm-secret:v1';
/** The environment variable a service manager sets to give the passphrase without a terminal. */
export const PASSPHRASE_ENV = 'ATM_PASSPHRASE';

export interface ScryptParams {
  N: number;
  r: number;
  p: number;
}

/** About 32 MiB and 0.1 s per derivation on a laptop. */
export const DEFAULT_SCRYPT: ScryptParams = { N: 32768, r: 8, p: 1 };

export type KeyType = 'hmac' | 'ed25519';

/**
 * An API key and its secret, in memory only. The secret is reachable through `secret()` alone; the
 * object inspects, stringifies and serialises to a redacted form.
 */
export class ApiCredentials {
  readonly #secret: string;
  readonly apiKey: string;
  readonly keyType: KeyType;

  constructor(apiKey: string, apiSecret: string) {
    const key = apiKey.trim();
    if (!/^[\x21-\x7e]{4,256}$/.test(key)) throw new UserError('the API key is not valid: expected 4 to 256 printable characters without spaces');
    this.apiKey = key;
    const secret = apiSecret.trim();
    this.keyType = keyTypeOf(secret);
    this.#secret = secret;
  }

  /** The secret (an HMAC string or an Ed25519 PKCS#8 PEM). Never log it. */
  secret(): string {
    return this.#secret;
  }

  /** The last 4 characters of the API key, for people to recognise it. */
  get apiKeyHint(): string {
    return this.apiKey.slice(-4);
  }

  toString(): string {
    return `[credentials …${this.apiKeyHint}]`;
  }

  toJSON(): string {
    return this.toString();
  }

  [inspect.custom](): string {
    return this.toString();
  }
}

/** 'ed25519' for a PKCS#8 PEM holding an Ed25519 private key, 'hmac' for a plain secret string. */
export function keyTypeOf(secret: string): KeyType {
  if (secret.includes('-----BEGIN')) {
    let type: string | undefined;
    try {
      type = createPrivateKey({ key: secret, format: 'pem' }).asymmetricKeyType;
    } catch {
      throw new UserError('the API secret looks like a PEM key but cannot be read: expected an Ed25519 private key in PKCS#8 PEM (-----BEGIN PRIVATE KEY-----)');
    }
    if (type !== 'ed25519') throw new UserError(`the API secret is a ${type ?? 'unknown'} private key: Binance API keys use Ed25519 (or an HMAC secret string)`);
    return 'ed25519';
  }
  if (!/^[\x21-\x7e]{8,512}$/.test(secret)) throw new UserError('the API secret is not valid: expected an HMAC secret (8 to 512 printable characters without spaces) or an Ed25519 PKCS#8 PEM');
  return 'hmac';
}

function deriveKey(passphrase: string, salt: Buffer, params: ScryptParams): Buffer {
  return scryptSync(passphrase.normalize('NFC'), salt, 32, { N: params.N, r: params.r, p: params.p, maxmem: 256 * params.N * params.r + 1024 * 1024 });
}

function checkPassphrase(passphrase: string): void {
  if (passphrase.length === 0) throw new UserError('the passphrase is empty: give one on the terminal or in ATM_PASSPHRASE');
}

/** Encrypts credentials with a passphrase into the versioned text format above. */
export function encryptCredentials(credentials: ApiCredentials, passphrase: string, params: ScryptParams = DEFAULT_SCRYPT): string {
  checkPassphrase(passphrase);
  const salt = randomBytes(16);
  const iv = randomBytes(12);
  const header = `${SECRET_FORMAT}:scrypt:N=${params.N},r=${params.r},p=${params.p}:${salt.toString('base64')}`;
  const key = deriveKey(passphrase, salt, params);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.from(header, 'utf8'));
  const plain = Buffer.from(JSON.stringify({ apiKey: credentials.apiKey, apiSecret: credentials.secret() }), 'utf8');
  const body = Buffer.concat([cipher.update(plain), cipher.final()]);
  const tag = cipher.getAuthTag();
  key.fill(0);
  plain.fill(0);
  return `${header}:${iv.toString('base64')}:${tag.toString('base64')}:${body.toString('base64')}`;
}

const B64 = '[A-Za-z0-9+/]+={0,2}';
const BLOB_RE = new RegExp(`^atm-secret:v1:scrypt:N=(\\d+),r=(\\d+),p=(\\d+):(${B64}):(${B64}):(${B64}):(${B64})$`);

/** Whether text is an encrypted secret of this format (any version). */
export function isEncryptedSecret(text: string): boolean {
  return text.trimStart().startsWith('atm-secret:');
}

/**
 * Decrypts a blob. `where` names it in errors ("account main", "key file /media/usb/k.json").
 * A damaged blob, a wrong passphrase or a changed blob is a UserError; none names the secret.
 */
export function decryptCredentials(blob: string, passphrase: string, where: string): ApiCredentials {
  checkPassphrase(passphrase);
  const m = BLOB_RE.exec(blob.trim());
  if (!m) {
    const version = /^atm-secret:v(\d+):/.exec(blob.trim())?.[1];
    if (version !== undefined && version !== '1') throw new UserError(`the encrypted secret of ${where} is in format v${version}, which this atm cannot read (it reads v1): update atm`);
    throw new UserError(`the encrypted secret of ${where} is damaged (not in the ${SECRET_FORMAT} format): store the credentials again`);
  }
  const [, n, r, p, saltB64, ivB64, tagB64, bodyB64] = m;
  const params = { N: Number(n), r: Number(r), p: Number(p) };
  const salt = Buffer.from(saltB64, 'base64');
  const iv = Buffer.from(ivB64, 'base64');
  const tag = Buffer.from(tagB64, 'base64');
  const validParams = params.N >= 1024 && params.N <= 2 ** 20 && (params.N & (params.N - 1)) === 0 && params.r >= 1 && params.r <= 32 && params.p >= 1 && params.p <= 16;
  if (!validParams || salt.length < 16 || iv.length !== 12 || tag.length !== 16) {
    throw new UserError(`the encrypted secret of ${where} is damaged (its parameters, salt, IV or tag are not valid): store the credentials again`);
  }
  const header = `${SECRET_FORMAT}:scrypt:N=${n},r=${r},p=${p}:${saltB64}`;
  const key = deriveKey(passphrase, salt, params);
  let plain: Buffer;
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, iv);
    decipher.setAAD(Buffer.from(header, 'utf8'));
    decipher.setAuthTag(tag);
    plain = Buffer.concat([decipher.update(Buffer.from(bodyB64, 'base64')), decipher.final()]);
  } catch {
    throw new UserError(`cannot decrypt the secret of ${where}: wrong passphrase, or the encrypted secret was changed`);
  } finally {
    key.fill(0);
  }
  let parsed: { apiKey?: unknown; apiSecret?: unknown };
  try {
    parsed = JSON.parse(plain.toString('utf8')) as typeof parsed;
  } catch {
    throw new UserError(`the encrypted secret of ${where} decrypts to something that is not atm's credentials: store the credentials again`);
  } finally {
    plain.fill(0);
  }
  if (typeof parsed.apiKey !== 'string' || typeof parsed.apiSecret !== 'string') throw new UserError(`the encrypted secret of ${where} lacks the API key or secret: store the credentials again`);
  return new ApiCredentials(parsed.apiKey, parsed.apiSecret);
}

/** The octal permission bits of a mode, as `0644`. */
export function formatMode(mode: number): string {
  return `0${(mode & 0o777).toString(8).padStart(3, '0')}`;
}

/**
 * Reads a key file: JSON `{ "apiKey": ..., "apiSecret": ... }` (also `key`/`secret`), or two parts
 * on lines (the key on the first line, the secret, possibly a multi-line PEM, after it), or either
 * encrypted in this module's format (then `passphrase` is asked for). The file must be readable by
 * its owner alone (mode 0600 or 0400), else it is refused naming its mode.
 */
export function readKeyFile(file: string, passphrase?: () => string): ApiCredentials {
  let mode: number;
  try {
    const stat = statSync(file);
    if (!stat.isFile()) throw new UserError(`key file ${file} is not a file`);
    mode = stat.mode;
  } catch (error) {
    if (error instanceof UserError) throw error;
    throw new UserError(`key file ${file} cannot be read (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  if ((mode & 0o077) !== 0) throw new UserError(`key file ${file} has mode ${formatMode(mode)}: others can read it; make it readable by you alone (chmod 600 ${file})`);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new UserError(`key file ${file} cannot be read (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  const where = `key file ${file}`;
  if (isEncryptedSecret(text)) {
    if (!passphrase) throw new UserError(`${where} is encrypted: a passphrase is needed (terminal or ATM_PASSPHRASE)`);
    return decryptCredentials(text, passphrase(), where);
  }
  return parseKeyText(text, where);
}

/** The plain key-file formats (see readKeyFile). Errors name `where`, never the content. */
export function parseKeyText(text: string, where: string): ApiCredentials {
  const trimmed = text.trim();
  if (trimmed.startsWith('{')) {
    let data: Record<string, unknown>;
    try {
      data = JSON.parse(trimmed) as Record<string, unknown>;
    } catch {
      throw new UserError(`${where} is not valid JSON: expected {"apiKey": "...", "apiSecret": "..."}`);
    }
    const key = data.apiKey ?? data.key;
    const secret = data.apiSecret ?? data.secret;
    if (typeof key !== 'string' || typeof secret !== 'string') throw new UserError(`${where} lacks "apiKey" or "apiSecret" (strings)`);
    return withPlace(where, () => new ApiCredentials(key, secret));
  }
  const lines = trimmed.split(/\r?\n/);
  if (lines.length < 2) throw new UserError(`${where} holds one line: expected the API key on the first line and the secret after it, or JSON {"apiKey", "apiSecret"}`);
  return withPlace(where, () => new ApiCredentials(lines[0], lines.slice(1).join('\n')));
}

function withPlace<T>(where: string, fn: () => T): T {
  try {
    return fn();
  } catch (error) {
    if (error instanceof UserError) throw new UserError(`${where}: ${error.message}`);
    throw error;
  }
}

/** The passphrase from ATM_PASSPHRASE, when set and not empty. */
export function passphraseFromEnv(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const v = env[PASSPHRASE_ENV];
  return v !== undefined && v.length > 0 ? v : undefined;
}
