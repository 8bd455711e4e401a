// Users, their password hashes and tags, and per-vhost permissions. Passwords are kept only as
// RabbitMQ's rabbit_password_hashing_sha256 hashes: base64(salt(4 bytes) ++ sha256(salt ++ password)),
// so definitions exported from RabbitMQ import unchanged.
import { createHash, randomBytes, timingSafeEqual } from "node:crypto";

export const PASSWORD_HASHING = "rabbit_password_hashing_sha256";

export interface User {
  readonly name: string;
  passwordHash: string;
  tags: string[];
  /** max-connections, max-channels (resource_limits.ts); none by default. */
  limits: Record<string, number>;
}

export interface Permission {
  readonly configure: string;
  readonly write: string;
  readonly read: string;
}

export type PermissionKind = keyof Permission;

interface CompiledPermission extends Permission {
  readonly patterns: Record<PermissionKind, RegExp>;
}

export function hashPassword(password: string, salt: Buffer = randomBytes(4)): string {
  const digest = createHash("sha256").update(salt).update(password, "utf8").digest();
  return Buffer.concat([salt, digest]).toString("base64");
}

export function checkPassword(password: string, passwordHash: string): boolean {
  const raw = Buffer.from(passwordHash, "base64");
  if (raw.length !== 36) return false;
  const expected = Buffer.from(hashPassword(password, raw.subarray(0, 4)), "base64");
  return timingSafeEqual(raw, expected);
}

export class UserStore {
  /** Bumped on every permission change, so callers can cache decisions. */
  generation = 0;
  private readonly users = new Map<string, User>();
  /** user → vhost → permission */
  private readonly permissions = new Map<string, Map<string, CompiledPermission>>();

  list(): IterableIterator<User> {
    return this.users.values();
  }

  get(name: string): User | undefined {
    return this.users.get(name);
  }

  /** Adds a user from a password, or from an existing hash (definitions import); a replaced user keeps its limits. */
  add(name: string, secret: { password: string } | { passwordHash: string }, tags: string[] = []): User {
    const passwordHash = "password" in secret ? hashPassword(secret.password) : secret.passwordHash;
    const user: User = { name, passwordHash, tags, limits: this.users.get(name)?.limits ?? {} };
    this.users.set(name, user);
    return user;
  }

  delete(name: string): boolean {
    this.generation++;
    this.permissions.delete(name);
    return this.users.delete(name);
  }

  authenticate(name: string, password: string): boolean {
    const user = this.users.get(name);
    return user !== undefined && checkPassword(password, user.passwordHash);
  }

  setPermission(user: string, vhost: string, p: Permission): void {
    this.generation++;
    let byVhost = this.permissions.get(user);
    if (byVhost === undefined) this.permissions.set(user, (byVhost = new Map()));
    byVhost.set(vhost, {
      configure: p.configure,
      write: p.write,
      read: p.read,
      patterns: { configure: compile(p.configure), write: compile(p.write), read: compile(p.read) },
    });
  }

  clearPermission(user: string, vhost: string): boolean {
    this.generation++;
    return this.permissions.get(user)?.delete(vhost) ?? false;
  }

  /** Drops every permission on a deleted vhost. */
  forgetVhost(vhost: string): void {
    this.generation++;
    for (const byVhost of this.permissions.values()) byVhost.delete(vhost);
  }

  permission(user: string, vhost: string): Permission | undefined {
    return this.permissions.get(user)?.get(vhost);
  }

  *allPermissions(): IterableIterator<{ user: string; vhost: string } & Permission> {
    for (const [user, byVhost] of this.permissions) {
      for (const [vhost, p] of byVhost) yield { user, vhost, configure: p.configure, write: p.write, read: p.read };
    }
  }

  /** RabbitMQ's rule: the resource name must match the permission's regular expression. */
  allowed(user: string, vhost: string, kind: PermissionKind, resource: string): boolean {
    const p = this.permissions.get(user)?.get(vhost);
    return p !== undefined && p.patterns[kind].test(resource);
  }
}

/** An empty pattern matches nothing (RabbitMQ's "^$"); others are unanchored regexes, as in RabbitMQ. */
function compile(pattern: string): RegExp {
  return pattern === "" ? /^$/ : new RegExp(pattern);
}
