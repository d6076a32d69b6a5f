// Queries for users, roles, sessions and token lookup. drizzle only; no rules here.
import { and, eq, isNull, lt, or, sql } from 'drizzle-orm';
import { apiTokens, mappedStatement, preparedFor, rolePermissions, roles, sessions, tableRows, users, type Database } from '@ai-threads/db';

export type UserRow = typeof users.$inferSelect & { role: string };

const permissionsOf = sql<string[]>`array(select rp.permission from role_permissions rp where rp.role_id = ${users.roleId} order by rp.permission)`;

const userColumns = {
  id: users.id,
  email: users.email,
  name: users.name,
  passwordHash: users.passwordHash,
  roleId: users.roleId,
  createdAt: users.createdAt,
  role: roles.name,
};

export async function findUserByEmail(db: Database, email: string): Promise<UserRow | undefined> {
  const [row] = await db
    .select(userColumns)
    .from(users)
    .innerJoin(roles, eq(roles.id, users.roleId))
    .where(sql`lower(${users.email}) = lower(${email})`)
    .limit(1);
  return row;
}

export async function findUserById(db: Database, id: number): Promise<(UserRow & { permissions: string[] }) | undefined> {
  const [row] = await db
    .select({ ...userColumns, permissions: permissionsOf })
    .from(users)
    .innerJoin(roles, eq(roles.id, users.roleId))
    .where(eq(users.id, id))
    .limit(1);
  return row;
}

export async function findRoleByName(db: Database, name: string) {
  const [row] = await db.select().from(roles).where(eq(roles.name, name)).limit(1);
  return row;
}

/** Every role with its permissions, in the order they were made. */
export async function listRoles(db: Database): Promise<Array<{ name: string; permissions: string[] }>> {
  const rows = await db
    .select({ name: roles.name, permission: rolePermissions.permission })
    .from(roles)
    .leftJoin(rolePermissions, eq(rolePermissions.roleId, roles.id))
    .orderBy(roles.id, rolePermissions.permission);
  const byName = new Map<string, string[]>();
  for (const row of rows) {
    const list = byName.get(row.name) ?? [];
    if (row.permission !== null) list.push(row.permission);
    byName.set(row.name, list);
  }
  return [...byName].map(([name, permissions]) => ({ name, permissions }));
}

/** Inserts a user; undefined when the email is taken (unique index on lower(email)). */
export async function insertUser(
  db: Database,
  values: { email: string; name: string | null; passwordHash: string; roleId: number },
): Promise<typeof users.$inferSelect | undefined> {
  const [row] = await db.insert(users).values(values).onConflictDoNothing().returning();
  return row;
}

export async function insertSession(db: Database, values: typeof sessions.$inferInsert) {
  await db.insert(sessions).values(values);
}

const sessionRow = tableRows(sessions);
const userRow = tableRows(users);

/**
 * Every authenticated request runs it: built once, its row read as an array with the columns' own
 * decoders (drizzle's nested select mapping was 2-4% of a request, profiled).
 */
const sessionWithUser = mappedStatement(
  sql`select ${sessionRow.columns}, ${userRow.columns}, ${roles.name}, ${permissionsOf}
        from ${sessions}
        inner join ${users} on ${users.id} = ${sessions.userId}
        inner join ${roles} on ${roles.id} = ${users.roleId}
       where ${sessions.id} = ${sql.placeholder('id')}
       limit 1`,
  (row) => {
    const role = sessionRow.width + userRow.width;
    return {
      session: sessionRow.read(row),
      user: { ...userRow.read(row, sessionRow.width), role: row[role] as string },
      permissions: row[role + 1] as string[],
    };
  },
);

export async function findSessionWithUser(db: Database, id: string) {
  const [row] = await sessionWithUser(db, { id });
  return row;
}

export async function extendSession(db: Database, id: string, expiresAt: Date) {
  await db.update(sessions).set({ expiresAt }).where(eq(sessions.id, id));
}

export async function deleteSession(db: Database, id: string) {
  await db.delete(sessions).where(eq(sessions.id, id));
}

/** Every request with an API token runs it: prepared. */
const apiTokenWithUser = preparedFor((db) =>
  db
    .select({
      token: apiTokens,
      user: userColumns,
      permissions: permissionsOf,
    })
    .from(apiTokens)
    .innerJoin(users, eq(users.id, apiTokens.userId))
    .innerJoin(roles, eq(roles.id, users.roleId))
    .where(eq(apiTokens.lookupId, sql.placeholder('lookupId')))
    .limit(1)
    .prepare('find_api_token_with_user'),
);

export async function findApiTokenWithUser(db: Database, lookupId: string) {
  const [row] = await apiTokenWithUser(db).execute({ lookupId });
  return row;
}

/** Records use at most once a minute per token, so reads stay cheap under load. */
export async function touchApiToken(db: Database, id: number, now: Date) {
  await db
    .update(apiTokens)
    .set({ lastUsedAt: now })
    // Typed operators, not raw sql: postgres.js cannot bind a Date inside a raw sql template.
    .where(
      and(
        eq(apiTokens.id, id),
        or(isNull(apiTokens.lastUsedAt), lt(apiTokens.lastUsedAt, new Date(now.getTime() - 60_000))),
      ),
    );
}
