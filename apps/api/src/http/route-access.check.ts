import { Injectable, OnApplicationBootstrap } from '@nestjs/common';
import { DiscoveryService, MetadataScanner, Reflector } from '@nestjs/core';
import { PATH_METADATA } from '@nestjs/common/constants.js';
import { ACCESS_KEY } from './access.decorators.js';

/**
 * Deny by default, enforced at boot: the API refuses to start if any route handler lacks an access rule,
 * so a forgotten decorator is a failed start in CI, not an open endpoint in production.
 */
@Injectable()
export class RouteAccessCheck implements OnApplicationBootstrap {
  constructor(
    private readonly discovery: DiscoveryService,
    private readonly scanner: MetadataScanner,
    private readonly reflector: Reflector,
  ) {}

  onApplicationBootstrap(): void {
    const open: string[] = [];
    for (const wrapper of this.discovery.getControllers()) {
      const instance = wrapper.instance as object | undefined;
      if (!instance || !wrapper.metatype) continue;
      const proto = Object.getPrototypeOf(instance) as Record<string, unknown>;
      for (const name of this.scanner.getAllMethodNames(proto)) {
        const handler = proto[name] as (...args: unknown[]) => unknown;
        if (this.reflector.get(PATH_METADATA, handler) === undefined) continue;
        const rule: unknown = this.reflector.getAllAndOverride(ACCESS_KEY, [handler, wrapper.metatype]);
        if (!rule) open.push(`${wrapper.metatype.name}.${name}`);
      }
    }
    if (open.length > 0)
      throw new Error(
        `routes without an access rule (add @Public, @BridgeOnly or @Roles): ${open.join(', ')}`,
      );
  }
}
