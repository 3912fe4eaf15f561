-- The console language a user chose, so it follows them to every browser they sign in from.
-- NULL: not chosen; the browser's own preference applies.
ALTER TABLE users ADD COLUMN locale text CHECK (locale IN ('en', 'zh-CN'));
