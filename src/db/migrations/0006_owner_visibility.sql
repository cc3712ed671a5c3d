-- Who may read an owner's packages (Gitea's organisation visibility): public (anyone), limited
-- (any authenticated caller) or private (members only). Every owner that exists keeps today's
-- rule, private; the CHECK keeps a value the code cannot read out of the table.
ALTER TABLE owners ADD COLUMN visibility TEXT NOT NULL DEFAULT 'private'
    CHECK (visibility IN ('public', 'limited', 'private'));
