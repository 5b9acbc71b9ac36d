import { Injectable } from '@nestjs/common';
import * as argon2 from 'argon2';

/**
 * argon2id with OWASP's recommended floor (19 MiB, t = 2, p = 1): ~20 ms a hash here, costly enough to
 * make offline guessing slow, cheap enough that login stays responsive on two cores.
 */
@Injectable()
export class PasswordHasher {
  private static readonly options = {
    type: argon2.argon2id,
    memoryCost: 19_456,
    timeCost: 2,
    parallelism: 1,
  } as const;
  /** A real hash of a random string: verifying against it costs the same as against a user's hash. */
  private readonly decoy = argon2.hash(`decoy-${Math.random()}`, PasswordHasher.options);

  hash(password: string): Promise<string> {
    return argon2.hash(password, PasswordHasher.options);
  }

  async verify(hash: string, password: string): Promise<boolean> {
    try {
      return await argon2.verify(hash, password);
    } catch {
      return false;
    }
  }

  /** Spends the time of a verification for a user that does not exist, so timing does not tell. */
  async burn(password: string): Promise<void> {
    await this.verify(await this.decoy, password);
  }
}
