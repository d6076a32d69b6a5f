-- `api_tokens.manage`: creating, listing and revoking one's own API tokens. Every role holds it (a
-- signed-in user always may manage their tokens); a token holds it only when it was given it.
-- Tokens made before this migration are not given it: they lose token management, on purpose.
INSERT INTO "role_permissions" ("role_id", "permission")
SELECT r.id, 'api_tokens.manage' FROM "roles" r
ON CONFLICT DO NOTHING;
