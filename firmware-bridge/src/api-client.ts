/** The bridge's only way out: HTTPS to the API with its machine credential. Never a database. */
export class BridgeApiClient {
  constructor(
    private readonly baseUrl: string,
    private readonly token: string,
  ) {}

  async whoami(signal?: AbortSignal): Promise<{ credentialId: string; siteId: string; name: string }> {
    const response = await fetch(new URL('/api/bridge/whoami', this.baseUrl), {
      headers: { authorization: `Bearer ${this.token}` },
      signal: signal ?? AbortSignal.timeout(5_000),
    });
    if (!response.ok) {
      const body = (await response.json().catch(() => ({}))) as { code?: string; detail?: string };
      throw new Error(`API answered ${response.status} ${body.code ?? ''} ${body.detail ?? ''}`.trim());
    }
    return (await response.json()) as { credentialId: string; siteId: string; name: string };
  }
}
