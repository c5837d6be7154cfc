-- Pairs inside the focus: the focus records' own keys are all the holders needed.
DROP TABLE IF EXISTS holders;
CREATE OR REPLACE TEMP VIEW holders AS SELECT rid, rule, kid FROM fkeys
