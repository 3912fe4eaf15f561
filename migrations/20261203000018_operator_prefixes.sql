-- The whole mainland prefix table (numbers::PhoneNumber::carrier, the same table; a test runs
-- every prefix through both): virtual operators' numbers (170x, 171, 162, 165, 167) and 172 were
-- filed as "Other / international", and China Broadnet (192) gets an operator of its own.
-- 1 China Mobile, 2 China Unicom, 3 China Telecom, 4 China Broadnet, 0 anything else: abroad,
-- satellite (174), data-only and IoT (140, 141, 144, 146, 148) and unallocated prefixes.
-- 170 is shared out among virtual operators by its fourth digit, so those are matched first.
-- Rows already in task_operators are not recomputed: tasks counted before this migration keep
-- the split they were counted with.
CREATE OR REPLACE FUNCTION mobile_operator(phone text) RETURNS smallint
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE
        WHEN phone !~ '^\+861[0-9]{10}$' THEN 0
        WHEN substr(phone, 4, 4) IN ('1703', '1705', '1706') THEN 1
        WHEN substr(phone, 4, 4) IN ('1704', '1707', '1708', '1709') THEN 2
        WHEN substr(phone, 4, 4) IN ('1700', '1701', '1702') THEN 3
        WHEN substr(phone, 4, 3) IN ('134', '135', '136', '137', '138', '139', '147', '150', '151',
                                     '152', '157', '158', '159', '165', '172', '178', '182', '183',
                                     '184', '187', '188', '195', '197', '198') THEN 1
        WHEN substr(phone, 4, 3) IN ('130', '131', '132', '145', '155', '156', '166', '167', '171',
                                     '175', '176', '185', '186', '196') THEN 2
        WHEN substr(phone, 4, 3) IN ('133', '149', '153', '162', '173', '177', '180', '181', '189',
                                     '190', '191', '193', '199') THEN 3
        WHEN substr(phone, 4, 3) = '192' THEN 4
        ELSE 0
    END::smallint
$$;
