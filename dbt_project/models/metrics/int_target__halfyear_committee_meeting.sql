-- halfyear_committee_meeting: the reporting unit's committee (the covering organization of its one
-- 区县党委/系统党委 单位 row) held at least one 党委会 whose topic mentions 强基创先.
-- The sum of its items: items/int_target_items__halfyear_committee_meeting.sql.
{{ target_from_items('halfyear_committee_meeting') }}
