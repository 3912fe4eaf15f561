-- Exported cells that a spreadsheet would run as a formula (uploaded variables, numbers as the
-- file had them, carriers' codes and serials) start with an apostrophe, so they read as text.
-- Signed numbers ("+8613800000000", "-5") are left as they are.
CREATE FUNCTION csv_text(value text) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN CASE WHEN value ~ '^[=@\t\r]' OR (value ~ '^[+-]' AND value !~ '^[+-][0-9 .]*$')
                THEN '''' || value ELSE value END;
