import { createHmac, createPrivateKey, sign as cryptoSign, type KeyObject } from 'node:crypto';

/**
 * Request signing for Binance USD-M. The signed payload is `totalParams`: the query string
 * directly followed by the form body (no `&` between), exactly as sent. HMAC-SHA256 gives a hex
 * signature; Ed25519 (and RSA) give base64, which must be URL-encoded when appended.
 */
export interface Signer {
  readonly kind: 'hmac' | 'ed25519';
  /** The `signature` value, ready to append to a query string (already URL-encoded). */
  sign(payload: string): string;
}

export function hmacSignature(secret: string, payload: string): string {
  return createHmac('sha256', secret).update(payload).digest('hex');
}

export class HmacSigner implements Signer {
  readonly kind = 'hmac' as const;
  constructor(private readonly secret: string) {}
  sign(payload: string): string {
    return hmacSignature(this.secret, payload);
  }
  toJSON(): string {
    return '[HmacSigner]';
  }
}

export class Ed25519Signer implements Signer {
  readonly kind = 'ed25519' as const;
  private readonly key: KeyObject;
  /** `privateKeyPem`: a PKCS#8 PEM Ed25519 private key. */
  constructor(privateKeyPem: string) {
    this.key = createPrivateKey(privateKeyPem);
    if (this.key.asymmetricKeyType !== 'ed25519') throw new Error(`the private key is ${this.key.asymmetricKeyType}, not ed25519`);
  }
  /** The raw base64 signature (before URL encoding). */
  signBase64(payload: string): string {
    return cryptoSign(null, Buffer.from(payload), this.key).toString('base64');
  }
  sign(payload: string): string {
    return encodeURIComponent(this.signBase64(payload));
  }
  toJSON(): string {
    return '[Ed25519Signer]';
  }
}

/** A secret that looks like a PEM key is Ed25519, otherwise HMAC. */
export function createSigner(secret: string): Signer {
  return /-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(secret) ? new Ed25519Signer(secret) : new HmacSigner(secret);
}

/** Encodes params in insertion order, skipping undefined, as Binance expects. */
export function encodeParams(params: Record<string, string | number | boolean | undefined>): string {
  const parts: string[] = [];
  for (const [k, v] of Object.entries(params)) {
    if (v === undefined) continue;
    parts.push(`${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`);
  }
  return parts.join('&');
}
