/** The roles of ARCHITECTURE.md §1. Stored as text in the database: never rename a value. */
export enum Role {
  Admin = 'admin',
  Production = 'production',
  Qa = 'qa',
  Warehouse = 'warehouse',
  Clinic = 'clinic',
}

export const ALL_ROLES: readonly Role[] = Object.values(Role);

export enum SiteKind {
  Production = 'production',
  Warehouse = 'warehouse',
  Clinic = 'clinic',
}

/** Who did something: a person, a site's bridge, or the system itself (CLI, worker). */
export type Actor =
  | {
      kind: 'user';
      userId: string;
      username: string;
      displayName: string;
      role: Role;
      siteId: string | null;
      organisationId: string | null;
    }
  | { kind: 'bridge'; credentialId: string; siteId: string; name: string }
  | { kind: 'system'; name: string };
