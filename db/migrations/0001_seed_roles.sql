-- The built-in roles. `member` is given at sign-up and holds every permission; `viewer` can only read.
INSERT INTO "roles" ("name") VALUES ('member'), ('viewer') ON CONFLICT ("name") DO NOTHING;
--> statement-breakpoint
INSERT INTO "role_permissions" ("role_id", "permission")
SELECT r.id, p.permission
FROM "roles" r
CROSS JOIN (VALUES
  ('ai_threads.view'), ('ai_threads.create'), ('ai_threads.update'), ('ai_threads.delete'),
  ('ai_thread_messages.view'), ('ai_thread_messages.create')
) AS p(permission)
WHERE r.name = 'member'
ON CONFLICT DO NOTHING;
--> statement-breakpoint
INSERT INTO "role_permissions" ("role_id", "permission")
SELECT r.id, p.permission
FROM "roles" r
CROSS JOIN (VALUES ('ai_threads.view'), ('ai_thread_messages.view')) AS p(permission)
WHERE r.name = 'viewer'
ON CONFLICT DO NOTHING;
