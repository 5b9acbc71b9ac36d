import { Injectable } from '@nestjs/common';
import { HealthIndicatorResult, HealthIndicatorService } from '@nestjs/terminus';
import { RedisProbe } from '@lyotrace/services';

@Injectable()
export class RedisHealthIndicator {
  constructor(
    private readonly probe: RedisProbe,
    private readonly indicator: HealthIndicatorService,
  ) {}

  async check(key: string): Promise<HealthIndicatorResult> {
    const session = this.indicator.check(key);
    try {
      await this.probe.ping(1_000);
      return session.up();
    } catch (error) {
      return session.down({ message: (error as Error).message });
    }
  }
}
