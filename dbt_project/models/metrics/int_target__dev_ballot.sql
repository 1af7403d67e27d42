-- dev_ballot: admissions of the year (both halves) decided by a branch-meeting ballot. On the H2 row.
-- The sum of its items: items/int_target_items__dev_ballot.sql.
{{ target_from_items('dev_ballot') }}
